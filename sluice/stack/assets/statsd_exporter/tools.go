//go:build tools

// Package statsdexporter pins the Prometheus statsd_exporter that bridges Airflow's StatsD
// metrics in the native stack; `sluice up --with-monitoring` builds it once into the cache.
package statsdexporter

import _ "github.com/prometheus/statsd_exporter"
