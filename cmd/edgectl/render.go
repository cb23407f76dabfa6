package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/pkg/render"
)

type renderFlags struct {
	project     projectFlags
	gateway     string
	namespace   string
	name        string
	envoy       bool
	image       string
	replicas    int
	serviceType string
}

// Annotations render adds from the Argo CD environment.
const (
	annRevision = "edgectl.dev/revision"
	annRepo     = "edgectl.dev/source-repo"
)

func newRenderCmd() *cobra.Command {
	var f renderFlags
	cmd := &cobra.Command{
		Use:   "render [SOURCE]",
		Short: "Print Kubernetes manifests for GitOps controllers (Argo CD, Flux)",
		Long: `Render compiles the repository and prints, as one YAML stream on stdout,
the ConfigMaps edgectl push would apply for each gateway (byte for byte the
same files), and with --envoy a Deployment and a Service that run Envoy with
them mounted as one projected volume.

Stdout holds only manifests. On any error, stdout stays empty and the exit
code is not 0, so a controller never applies (or prunes to) a partial or
empty set; a repository without gateways is an error for the same reason.

Run as an Argo CD config management plugin (deploy/argocd/), render also
reads the plugin environment: a flag not given on the command line comes
from PARAM_<FLAG>, then ARGOCD_ENV_<FLAG> (PARAM_GATEWAY, ARGOCD_ENV_ENVOY,
...); --namespace defaults to ARGOCD_APP_NAMESPACE; ARGOCD_APP_REVISION and
ARGOCD_APP_SOURCE_REPO_URL become the annotations edgectl.dev/revision and
edgectl.dev/source-repo.

Exit codes: 0 printed, 1 edgectl failed, 2 usage error, 3 the repository was
rejected.`,
		Example: `  edgectl render --envoy | kubectl apply --server-side -f -
  edgectl render --gateway edge --namespace edge --name envoy-config
  edgectl render --rev v1.2 > manifests.yaml`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := flagsFromArgoCD(cmd); err != nil {
				return err
			}
			return runRender(cmd, f, a)
		},
	}
	f.project.bind(cmd)
	cmd.Flags().StringVar(&f.gateway, "gateway", "", "render only this gateway (default: every gateway)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "", "namespace of the objects (default $ARGOCD_APP_NAMESPACE, else none)")
	cmd.Flags().StringVar(&f.name, "name", "", "name of the objects, with one gateway (default envoy-<gateway>)")
	cmd.Flags().BoolVar(&f.envoy, "envoy", false, "also render an Envoy Deployment and Service")
	cmd.Flags().StringVar(&f.image, "image", render.DefaultImage, "Envoy image of the Deployment")
	cmd.Flags().IntVar(&f.replicas, "replicas", 2, "replicas of the Deployment")
	cmd.Flags().StringVar(&f.serviceType, "service-type", "ClusterIP", "type of the Service: ClusterIP, NodePort or LoadBalancer")
	return cmd
}

// flagsFromArgoCD sets the flags not given on the command line from an Argo
// CD plugin's parameters (PARAM_<NAME>) or environment (ARGOCD_ENV_<NAME>).
// Empty values count as unset: Argo CD passes parameters left blank.
func flagsFromArgoCD(cmd *cobra.Command) error {
	return flagsFrom(cmd, func(name string) bool { return name != "help" }, "PARAM_", "ARGOCD_ENV_")
}

func runRender(cmd *cobra.Command, f renderFlags, a []string) error {
	if err := oneOf(cmd, "service-type"); err != nil {
		return err
	}
	if f.replicas < 1 {
		return usageErrorf("--replicas must be at least 1")
	}
	opts := render.Options{
		Namespace: f.namespace, Name: f.name, Envoy: f.envoy,
		Image: f.image, Replicas: f.replicas, ServiceType: f.serviceType,
	}
	if opts.Namespace == "" {
		opts.Namespace = os.Getenv("ARGOCD_APP_NAMESPACE")
	}
	for ann, env := range map[string]string{annRevision: "ARGOCD_APP_REVISION", annRepo: "ARGOCD_APP_SOURCE_REPO_URL"} {
		if v := os.Getenv(env); v != "" {
			if opts.Annotations == nil {
				opts.Annotations = map[string]string{}
			}
			opts.Annotations[ann] = v
		}
	}

	res, err := compileOrReject(cmd, f.project, a)
	if err != nil {
		return err
	}
	bundles, err := pickBundles(res.Bundles, f.gateway)
	if err != nil {
		return err
	}
	if len(bundles) > 1 && f.name != "" {
		return usageErrorf("--name names one gateway's objects, and the repository has %d gateways; add --gateway", len(bundles))
	}
	var objs []any
	for _, b := range bundles {
		o, err := render.Objects(b, opts)
		if err != nil {
			return fmt.Errorf("gateway %s: %w", b.Gateway, err)
		}
		objs = append(objs, o...)
	}
	// All or nothing: the stream is written once it is complete.
	var buf bytes.Buffer
	if err := render.Write(&buf, objs); err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(buf.Bytes())
	return err
}
