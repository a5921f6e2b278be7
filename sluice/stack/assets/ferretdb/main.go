// Command sluice-ferretdb serves the MongoDB wire protocol for the native Sluice stack.
//
// It embeds FerretDB with the SQLite backend. Sluice builds this small wrapper instead of
// FerretDB's own command because that command refuses to start unless it was built from a
// FerretDB git checkout (it reads its version from files the release process generates).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on (empty: none)")
	listenTLS := flag.String("listen-tls", "", "TCP address to serve the MongoDB wire protocol on over TLS (empty: none)")
	certFile := flag.String("tls-cert-file", "", "server certificate chain (PEM) of the TLS listener")
	keyFile := flag.String("tls-key-file", "", "server private key (PEM) of the TLS listener")
	dataDir := flag.String("sqlite-dir", "data", "directory holding one SQLite file per database")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*dataDir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		logger.Error("cannot prepare the SQLite directory", "dir", *dataDir, "error", err)
		os.Exit(1)
	}

	server, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP:         *listen,
			TLS:         *listenTLS,
			TLSCertFile: *certFile,
			TLSKeyFile:  *keyFile,
		},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "listen", *listen, "error", err)
		os.Exit(1)
	}

	// SIGTERM from the supervisor ends Run; FerretDB then closes its SQLite files cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("serving the MongoDB wire protocol", "listen", *listen, "listen-tls", *listenTLS, "dir", dir)
	if err := server.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("FerretDB stopped with an error", "error", err)
		os.Exit(1)
	}
	logger.Info("stopped")
}
