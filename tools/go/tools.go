//go:build tools

// Package tools pins the Go-built checkers of the deployment files; `make tools` builds them
// from this module, so go.sum fixes every byte of their sources.
package tools

import (
	_ "github.com/hashicorp/hcl/v2/cmd/hclfmt"
	_ "github.com/rhysd/actionlint/cmd/actionlint"
	_ "helm.sh/helm/v3/cmd/helm"
)
