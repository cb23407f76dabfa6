package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// ConfigMapBudget is the most file content edgectl puts in one ConfigMap.
// The API server refuses more than 1 MiB of data; the rest of the object
// (keys, labels, annotations, managed fields) needs room too.
const ConfigMapBudget = 1000 * 1000

// Labels every ConfigMap edgectl writes carries; pruning selects on them.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelBundle    = "edgectl.dev/bundle"
	LabelGateway   = "edgectl.dev/gateway"
	AnnDigest      = "edgectl.dev/digest"
	AnnShards      = "edgectl.dev/shards"
	AnnCommit      = "edgectl.dev/commit"
	FieldManager   = "edgectl"
)

// Kube is a Kubernetes target: ConfigMaps in a namespace.
type Kube struct {
	api       corev1client.ConfigMapInterface
	Namespace string
	Name      string
}

// NewKube connects to the cluster of a kubeconfig context, found as
// kubectl finds it (see restConfig), or to the cluster edgectl runs in.
func NewKube(t Target, kubeconfigFlag, contextFlag string) (*Kube, error) {
	ctx := t.Context
	if ctx == "" {
		ctx = contextFlag
	}
	cfg, err := restConfig(loadingRules(kubeconfigFlag), ctx, thisPod)
	if err != nil {
		return nil, err
	}
	return newKube(cfg, t)
}

func newKube(cfg *rest.Config, t Target) (*Kube, error) {
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Kubernetes: %w", err)
	}
	return &Kube{api: core.ConfigMaps(t.Namespace), Namespace: t.Namespace, Name: t.Name}, nil
}

// ConfigMap is the object edgectl applies.
// The yaml tags serve edgectl render.
type ConfigMap struct {
	APIVersion string            `json:"apiVersion" yaml:"apiVersion"`
	Kind       string            `json:"kind" yaml:"kind"`
	Metadata   ObjectMeta        `json:"metadata" yaml:"metadata"`
	Data       map[string]string `json:"data" yaml:"data"`
}

type ObjectMeta struct {
	Name        string            `json:"name" yaml:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// ConfigMaps splits a bundle's delivered files into ConfigMaps under the
// size limit: the first is named name, the others name-1, name-2, … The
// first holds the manifest, the bootstrap and the listeners and clusters;
// route configurations and secrets fill the others. Mount them all in one
// projected volume. A single file too large for a ConfigMap is an error
// here, before the API server refuses it.
func ConfigMaps(b *bundle.Bundle, namespace, name string) ([]ConfigMap, error) {
	files := b.Delivered()
	first := []string{bundle.ManifestFile, bundle.FilesBootstrapFile, "lds.yaml", "cds.yaml"}
	slices.SortStableFunc(files, func(x, y bundle.File) int {
		return boolInt(!slices.Contains(first, x.Path)) - boolInt(!slices.Contains(first, y.Path))
	})
	var shards []map[string]string
	sizes := []int{}
	for _, f := range files {
		if len(f.Data) > ConfigMapBudget {
			return nil, tooLarge(f)
		}
		placed := false
		for i := range shards { // first fit, the first files first
			if sizes[i]+len(f.Data) <= ConfigMapBudget {
				shards[i][f.Path] = string(f.Data)
				sizes[i] += len(f.Data)
				placed = true
				break
			}
		}
		if !placed {
			shards = append(shards, map[string]string{f.Path: string(f.Data)})
			sizes = append(sizes, len(f.Data))
		}
	}
	out := make([]ConfigMap, len(shards))
	for i, data := range shards {
		n := name
		if i > 0 {
			n = fmt.Sprintf("%s-%d", name, i)
		}
		out[i] = ConfigMap{
			APIVersion: "v1", Kind: "ConfigMap",
			Metadata: ObjectMeta{
				Name: n, Namespace: namespace,
				Labels: map[string]string{LabelManagedBy: "edgectl", LabelBundle: name, LabelGateway: b.Gateway},
				Annotations: map[string]string{AnnDigest: b.Digest, AnnShards: strconv.Itoa(len(shards)),
					AnnCommit: b.Manifest.Source.Commit},
			},
			Data: data,
		}
		if out[i].Metadata.Annotations[AnnCommit] == "" {
			delete(out[i].Metadata.Annotations, AnnCommit)
		}
	}
	return out, nil
}

// tooLarge explains a file no ConfigMap can hold, and what to do about it.
func tooLarge(f bundle.File) error {
	fix := "split the gateway's virtual hosts over more HTTPS certificates (one route configuration each) or more gateways"
	switch f.Path {
	case "cds.yaml":
		fix = "Envoy reads every cluster from this one file; split the backends over more gateways"
	case "lds.yaml":
		fix = "Envoy reads every listener from this one file; split the listeners over more gateways"
	}
	return fmt.Errorf("%s is %d bytes, more than one ConfigMap holds (%d): %s, or deliver it with edgectl serve, which has no such limit", f.Path, len(f.Data), ConfigMapBudget, fix)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Current reads and verifies the bundle the target's ConfigMaps hold, or
// nil when there are none.
func (k *Kube) Current(ctx context.Context) (*bundle.Bundle, error) {
	cms, err := k.list(ctx)
	if err != nil {
		return nil, err
	}
	return held(cms)
}

// held reads and verifies the bundle that ConfigMaps hold; nil for none.
func held(cms []ConfigMap) (*bundle.Bundle, error) {
	if len(cms) == 0 {
		return nil, nil
	}
	data := map[string][]byte{}
	for _, cm := range cms {
		for name, v := range cm.Data {
			data[name] = []byte(v)
		}
	}
	return bundle.VerifyDelivered(data)
}

// Push applies the bundle's ConfigMaps and deletes shards it no longer
// needs. Route configurations and secrets go first, listeners and clusters
// (in the first ConfigMap) last, so what a listener names exists before it.
func (k *Kube) Push(ctx context.Context, b *bundle.Bundle, opts Options, force bool) (Result, error) {
	res := Result{Gateway: b.Gateway, Digest: b.Digest}
	if err := checkExpected(b.Digest, opts.ExpectDigest); err != nil {
		return res, err
	}
	cms, err := ConfigMaps(b, k.Namespace, k.Name)
	if err != nil {
		return res, err
	}
	existing, err := k.list(ctx)
	if err != nil {
		return res, err
	}
	cur, err := held(existing) // a damaged bundle is pushed over
	if err == nil && cur != nil {
		res.Previous = cur.Digest
	}
	if res.Previous == b.Digest && len(existing) == len(cms) {
		res.Status = UpToDate
		return res, nil
	}
	for i := len(cms) - 1; i >= 0; i-- {
		if err := k.apply(ctx, cms[i], opts.DryRun, force); err != nil {
			return res, err
		}
		res.Detail = append(res.Detail, "applied ConfigMap "+cms[i].Metadata.Name)
	}
	for _, cm := range existing {
		if !slices.ContainsFunc(cms, func(n ConfigMap) bool { return n.Metadata.Name == cm.Metadata.Name }) {
			if err := k.delete(ctx, cm.Metadata.Name, opts.DryRun); err != nil {
				return res, err
			}
			res.Detail = append(res.Detail, "deleted ConfigMap "+cm.Metadata.Name+" (a shard no longer needed)")
		}
	}
	slices.Sort(res.Detail)
	res.Detail = append(res.Detail, restartNote(cur, b)...)
	res.Status = Pushed
	if opts.DryRun {
		res.Status = WouldPush
	}
	return res, nil
}

func (k *Kube) list(ctx context.Context) ([]ConfigMap, error) {
	sel := LabelManagedBy + "=edgectl," + LabelBundle + "=" + k.Name
	list, err := k.api.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, k.explain("list", "", err)
	}
	out := make([]ConfigMap, 0, len(list.Items))
	for _, cm := range list.Items {
		out = append(out, ConfigMap{
			APIVersion: "v1", Kind: "ConfigMap",
			Metadata: ObjectMeta{Name: cm.Name, Namespace: cm.Namespace, Labels: cm.Labels, Annotations: cm.Annotations},
			Data:     cm.Data,
		})
	}
	slices.SortFunc(out, func(a, b ConfigMap) int { return strings.Compare(a.Metadata.Name, b.Metadata.Name) })
	return out, nil
}

func (k *Kube) apply(ctx context.Context, cm ConfigMap, dryRun, force bool) error {
	ac := corev1ac.ConfigMap(cm.Metadata.Name, cm.Metadata.Namespace).
		WithLabels(cm.Metadata.Labels).
		WithAnnotations(cm.Metadata.Annotations).
		WithData(cm.Data)
	_, err := k.api.Apply(ctx, ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: force, DryRun: dryRunAll(dryRun)})
	return k.explain("apply", cm.Metadata.Name, err)
}

func (k *Kube) delete(ctx context.Context, name string, dryRun bool) error {
	err := k.api.Delete(ctx, name, metav1.DeleteOptions{DryRun: dryRunAll(dryRun)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return k.explain("delete", name, err)
}

func dryRunAll(dryRun bool) []string {
	if dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// explain turns what the API server refused into what to do about it.
func (k *Kube) explain(verb, name string, err error) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf("%s ConfigMaps in %s", verb, k.Namespace)
	if name != "" {
		what = fmt.Sprintf("%s ConfigMap %s in %s", verb, name, k.Namespace)
	}
	var api apierrors.APIStatus
	if !errors.As(err, &api) {
		return fmt.Errorf("%s: %w", what, err)
	}
	st := api.Status()
	switch st.Code {
	case http.StatusConflict:
		var fields []string
		if st.Details != nil {
			for _, c := range st.Details.Causes {
				fields = append(fields, c.Field+" ("+c.Message+")")
			}
		}
		return fmt.Errorf("%s: another field manager owns fields edgectl would change: %s; push with --force-conflicts to take them over", what, strings.Join(fields, "; "))
	case http.StatusForbidden:
		return fmt.Errorf("%s: forbidden: %s", what, st.Message)
	case http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%s: refused as invalid or too large: %s", what, st.Message)
	}
	return fmt.Errorf("%s: %w", what, err)
}
