package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/xds"
)

type bootstrapFlags struct {
	project projectFlags
	gateway string
	ads     string
	delta   bool
	tls     bool
	ca      string
	cert    string
	key     string
}

func newBootstrapCmd() *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap [BUNDLE|SOURCE] --ads HOST:PORT",
		Short: "Print the Envoy bootstrap for a gateway served by edgectl serve",
		Long: `Bootstrap prints the Envoy bootstrap that gets a gateway's configuration from
edgectl serve at --ads HOST:PORT: the bundle's node (its node.cluster is how
serve picks the gateway), admin and SDS server, an edgectl-xds cluster that
reaches the server over HTTP/2, and dynamic_resources with ads_config and
lds_config and cds_config set to ADS. --delta uses incremental xDS.

--tls makes the edgectl-xds cluster speak TLS, for edgectl serve --tls-cert:
Envoy verifies the server's certificate against --ca and checks that it
names the --ads host (a DNS SAN, or an IP SAN for an address), sends the
host as SNI (unless it is an address) and offers h2 by ALPN. For a server
with --client-ca, --client-cert and --client-key are the certificate Envoy
presents. All three are paths on the Envoy host, read by Envoy and never by
edgectl: the key stays where it is.

The bundle is a directory written by compile (OUT/<gateway>) or a
repository compiled on the spot (with --gateway when it has several). The
bootstrap is validated like every bundle file before it is printed.
Bootstraps for file-based xDS and for a static configuration are in the
bundle itself (bootstrap-xds.yaml, bootstrap.yaml).`,
		Example: `  edgectl bootstrap out/edge --ads xds.edge.svc:18000 > /etc/envoy/bootstrap.yaml
  edgectl bootstrap --gateway edge --ads 10.0.0.5:18000 --delta
  edgectl bootstrap out/edge --ads xds.edge.svc:18000 --tls --ca /etc/envoy/xds-ca.crt \
    --client-cert /etc/envoy/xds-client.crt --client-key /etc/envoy/xds-client.key`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error { return runBootstrap(cmd, f, a) },
	}
	f.project.bind(cmd)
	cmd.Flags().StringVar(&f.gateway, "gateway", "", "the gateway, when SOURCE has several")
	cmd.Flags().StringVar(&f.ads, "ads", "", "HOST:PORT of edgectl serve's xDS listener (required)")
	cmd.Flags().BoolVar(&f.delta, "delta", false, "use incremental (delta) xDS instead of state of the world")
	cmd.Flags().BoolVar(&f.tls, "tls", false, "reach edgectl serve over TLS (needs --ca)")
	cmd.Flags().StringVar(&f.ca, "ca", "", "with --tls: CA bundle (PEM) on the Envoy host that verifies the server")
	cmd.Flags().StringVar(&f.cert, "client-cert", "", "with --tls: client certificate (PEM) on the Envoy host, for mutual TLS")
	cmd.Flags().StringVar(&f.key, "client-key", "", "with --tls: the private key of --client-cert on the Envoy host")
	return cmd
}

func runBootstrap(cmd *cobra.Command, f bootstrapFlags, a []string) error {
	if f.ads == "" {
		return usageErrorf("missing --ads HOST:PORT: where edgectl serve listens")
	}
	host, portText, err := net.SplitHostPort(f.ads)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || host == "" || perr != nil || port == 0 {
		return usageErrorf("--ads %q: want HOST:PORT, such as xds.edge.svc:18000", f.ads)
	}
	switch {
	case !f.tls && (f.ca != "" || f.cert != "" || f.key != ""):
		return usageErrorf("--ca, --client-cert and --client-key go with --tls")
	case f.tls && f.ca == "":
		return usageErrorf("--tls needs --ca FILE: the CA that verifies edgectl serve's certificate")
	case (f.cert == "") != (f.key == ""):
		return usageErrorf("--client-cert and --client-key go together")
	}
	b, err := loadBundle(cmd, f.project, f.gateway, a)
	if err != nil {
		return err
	}
	files, err := b.Bootstrap(bundle.FilesBootstrapFile)
	if err != nil {
		return err
	}
	boot := xds.ADSBootstrap(files, host, uint32(port), f.delta)
	if f.tls {
		boot = xds.SecureADS(boot, host, xds.ADSTLS{CA: f.ca, ClientCert: f.cert, ClientKey: f.key})
	}
	if err := xds.CheckBootstrap(boot, "bootstrap"); err != nil {
		return fmt.Errorf("internal error (please report it): %w", err)
	}
	out, err := bundle.YAML(boot)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}
