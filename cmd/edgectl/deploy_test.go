package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgectl/edgectl/internal/kubetest"
)

const kubernetesBase = "../../deploy/kubernetes"

// baseObject is one object of the kustomize base, with the file it is in.
type baseObject struct {
	file string
	obj  map[string]any
}

func (o baseObject) kind() string { s, _ := o.obj["kind"].(string); return s }

func (o baseObject) name() string {
	m, _ := o.obj["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}

// loadBase reads the resources kustomization.yaml lists, every document of
// each, in order. The base has no generators, patches or transformers
// beyond namespace, which an overlay sets; a field that would need them
// fails here.
func loadBase(t *testing.T) []baseObject {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(kubernetesBase, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // only what this loader understands
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.Kind != "Kustomization" || len(k.Resources) == 0 {
		t.Fatalf("kustomization.yaml: kind %q with %d resources", k.Kind, len(k.Resources))
	}
	var objs []baseObject
	for _, file := range k.Resources {
		data, err := os.ReadFile(filepath.Join(kubernetesBase, file))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if obj == nil {
				continue
			}
			o := baseObject{file: file, obj: obj}
			if o.kind() == "" || o.name() == "" {
				t.Fatalf("%s: an object without kind or name", file)
			}
			if m := obj["metadata"].(map[string]any); m["namespace"] != nil {
				t.Errorf("%s: %s %s sets a namespace; the overlay does", file, o.kind(), o.name())
			}
			objs = append(objs, o)
		}
	}
	return objs
}

// decodeObject fills typed with the one object of kind and name, refusing
// fields the type does not have.
func decodeObject(t *testing.T, objs []baseObject, kind, name string, typed any) {
	t.Helper()
	for _, o := range objs {
		if o.kind() != kind || o.name() != name {
			continue
		}
		js, err := json.Marshal(o.obj)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(typed); err != nil {
			t.Fatalf("%s: %s %s: %v", o.file, kind, name, err)
		}
		return
	}
	t.Fatalf("no %s %s in the base", kind, name)
}

// TestKubernetesBase holds deploy/kubernetes to what the issue asks of it
// and to what edgectl does: two serve replicas whose arguments serve
// accepts and whose probes and ports are serve's own; RBAC of exactly list
// and watch on Services and EndpointSlices, bound to serve's service
// account; and an Envoy bootstrap that is byte for byte what edgectl
// bootstrap writes for the serve Service's name and xDS port.
func TestKubernetesBase(t *testing.T) {
	t.Parallel()
	objs := loadBase(t)

	var (
		serveDeploy appsv1.Deployment
		serveSvc    corev1.Service
		serveCfg    corev1.ConfigMap
		role        rbacv1.ClusterRole
		binding     rbacv1.ClusterRoleBinding
		envoyDeploy appsv1.Deployment
		bootCfg     corev1.ConfigMap
	)
	decodeObject(t, objs, "Deployment", "edgectl-serve", &serveDeploy)
	decodeObject(t, objs, "Service", "edgectl-serve", &serveSvc)
	decodeObject(t, objs, "ConfigMap", "edgectl-serve", &serveCfg)
	decodeObject(t, objs, "ClusterRole", "edgectl-serve-endpoints", &role)
	decodeObject(t, objs, "ClusterRoleBinding", "edgectl-serve-endpoints", &binding)
	decodeObject(t, objs, "Deployment", "envoy", &envoyDeploy)
	decodeObject(t, objs, "ConfigMap", "envoy-bootstrap", &bootCfg)

	if r := serveDeploy.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("serve Deployment replicas %v, want 2", r)
	}

	t.Run("rbac", func(t *testing.T) {
		want := map[string][]string{
			"/services":                       {"list", "watch"},
			"discovery.k8s.io/endpointslices": {"list", "watch"},
		}
		got := map[string][]string{}
		for _, r := range role.Rules {
			if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
				t.Errorf("rule %+v: serve needs no resource names or URLs", r)
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					got[g+"/"+res] = append(got[g+"/"+res], r.Verbs...)
				}
			}
		}
		for k, v := range got {
			slices.Sort(v)
			got[k] = slices.Compact(v)
		}
		if len(got) != len(want) {
			t.Errorf("ClusterRole grants %v, want %v", got, want)
		}
		for k, v := range want {
			if !slices.Equal(got[k], v) {
				t.Errorf("ClusterRole grants %s %v, want %v", k, got[k], v)
			}
		}
		if binding.RoleRef.Kind != "ClusterRole" || binding.RoleRef.Name != role.Name {
			t.Errorf("binding refers to %s %s", binding.RoleRef.Kind, binding.RoleRef.Name)
		}
		sa := serveDeploy.Spec.Template.Spec.ServiceAccountName
		if len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" || binding.Subjects[0].Name != sa {
			t.Errorf("binding subjects %+v, want the ServiceAccount %q serve runs as", binding.Subjects, sa)
		}
	})

	// serve's container, its arguments with $(VAR) expanded from the
	// ConfigMap as the kubelet does, parsed by serve's own flags.
	c := serveDeploy.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	serveFlags := newServeCmd().Flags()
	t.Run("serve", func(t *testing.T) {
		env := map[string]string{}
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.ConfigMapKeyRef != nil {
				v, ok := serveCfg.Data[ref.ConfigMapKeyRef.Key]
				if ref.ConfigMapKeyRef.Name != serveCfg.Name || !ok {
					t.Errorf("env %s names %s[%s], which the base lacks", e.Name, ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key)
				}
				env[e.Name] = v
			}
		}
		ref := regexp.MustCompile(`\$\(([A-Z_]+)\)`)
		var args []string
		for _, a := range c.Args {
			args = append(args, ref.ReplaceAllStringFunc(a, func(m string) string {
				v, ok := env[m[2:len(m)-1]]
				if !ok {
					t.Errorf("argument %q: %s is not in the environment", a, m)
				}
				return v
			}))
		}
		if len(args) == 0 || args[0] != "serve" {
			t.Fatalf("args %v do not run serve", args)
		}
		if err := serveFlags.Parse(args[1:]); err != nil {
			t.Fatalf("serve refuses %v: %v", args[1:], err)
		}
		if !strings.HasPrefix(serveFlags.Lookup("git").Value.String(), "https://") {
			t.Errorf("--git %q: the token goes with an https:// remote", serveFlags.Lookup("git").Value)
		}
		for flag, port := range map[string]string{"listen": "xds", "http": "http"} {
			if v := serveFlags.Lookup(flag).Value.String(); v != ":"+strconv.Itoa(int(ports[port])) {
				t.Errorf("--%s %s, container port %s is %d", flag, v, port, ports[port])
			}
		}
		mounted := func(path string) bool {
			return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/")
			})
		}
		for _, flag := range []string{"git-token-file", "cache-dir"} {
			if v := serveFlags.Lookup(flag).Value.String(); !mounted(v) {
				t.Errorf("--%s %s is on no volume", flag, v)
			}
		}
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			want := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}[name]
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "http" {
				t.Errorf("%s probe %+v, want GET %s on port http", name, p, want)
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("serve container securityContext %+v", sc)
		}
		if psc := serveDeploy.Spec.Template.Spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Errorf("serve pod may run as root")
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("serve resources %+v", c.Resources)
		}
	})

	t.Run("bootstrap", func(t *testing.T) {
		var xdsPort int32
		for _, p := range serveSvc.Spec.Ports {
			if p.Name == "xds" {
				xdsPort = p.Port
				if p.TargetPort.String() != "xds" {
					t.Errorf("Service port xds goes to %s", p.TargetPort.String())
				}
			}
		}
		if xdsPort == 0 {
			t.Fatal("the serve Service has no xds port")
		}
		text := bootCfg.Data["bootstrap.yaml"]
		var b bootstrapv3.Bootstrap
		var tree any
		if err := yaml.Unmarshal([]byte(text), &tree); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(tree)
		if err != nil {
			t.Fatal(err)
		}
		if err := protojson.Unmarshal(js, &b); err != nil {
			t.Fatalf("bootstrap.yaml is no Envoy bootstrap: %v", err)
		}
		grpc := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()
		if len(grpc) != 1 {
			t.Fatalf("ads_config has %d gRPC services", len(grpc))
		}
		adsCluster := grpc[0].GetEnvoyGrpc().GetClusterName()
		var addrs []string
		for _, cl := range b.GetStaticResources().GetClusters() {
			if cl.GetName() != adsCluster {
				continue
			}
			for _, le := range cl.GetLoadAssignment().GetEndpoints() {
				for _, ep := range le.GetLbEndpoints() {
					sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
					addrs = append(addrs, sa.GetAddress()+":"+strconv.Itoa(int(sa.GetPortValue())))
				}
			}
		}
		ads := serveSvc.Name + ":" + strconv.Itoa(int(xdsPort))
		if !slices.Equal(addrs, []string{ads}) {
			t.Errorf("ADS cluster %q reaches %v, want the serve Service %s", adsCluster, addrs, ads)
		}

		var stdout, stderr bytes.Buffer
		if code := run([]string{"bootstrap", "../../examples/acme", "--gateway", "edge", "--ads", ads}, &stdout, &stderr); code != 0 {
			t.Fatalf("edgectl bootstrap: exit %d\n%s", code, stderr.String())
		}
		if text != stdout.String() {
			t.Errorf("envoy-bootstrap.yaml is not what edgectl bootstrap --ads %s writes now; regenerate it (the command is in the file)", ads)
		}

		vols := envoyDeploy.Spec.Template.Spec.Volumes
		if !slices.ContainsFunc(vols, func(v corev1.Volume) bool {
			return v.ConfigMap != nil && v.ConfigMap.Name == bootCfg.Name
		}) {
			t.Errorf("the Envoy Deployment does not mount %s", bootCfg.Name)
		}
		args := strings.Join(envoyDeploy.Spec.Template.Spec.Containers[0].Args, " ")
		if !strings.Contains(args, "/bootstrap.yaml") {
			t.Errorf("Envoy args %q name no bootstrap.yaml", args)
		}
	})
}

// TestKubernetesBaseApplies sends every object of deploy/kubernetes to a
// real kube-apiserver with server-side apply and dryRun=All, in a namespace
// set as kustomize's namespace: sets it, and with strict field validation:
// the API server's schemas, defaulting and validation accept all of it.
func TestKubernetesBaseApplies(t *testing.T) {
	t.Parallel()
	objs := loadBase(t)
	c := kubetest.Start(t)
	ns := c.Namespace(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig(t, c.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o.obj}
		gvk := schema.FromAPIVersionAndKind(u.GetAPIVersion(), u.GetKind())
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Errorf("%s: %s: %v", o.file, gvk, err)
			continue
		}
		var res dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			u.SetNamespace(ns)
			res = dyn.Resource(m.Resource).Namespace(ns)
		}
		setSubjectNamespaces(u, ns)
		body, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		_, err = res.Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
			FieldManager:    "edgectl-deploy-test",
			DryRun:          []string{metav1.DryRunAll},
			FieldValidation: "Strict",
		})
		if err != nil {
			t.Errorf("%s: %s %s: %v", o.file, u.GetKind(), u.GetName(), err)
		}
	}
}

// setSubjectNamespaces does what kustomize's namespace: does to the
// ServiceAccount subjects of a binding that name the namespace "default".
func setSubjectNamespaces(u *unstructured.Unstructured, ns string) {
	subjects, _ := u.Object["subjects"].([]any)
	for _, s := range subjects {
		m, _ := s.(map[string]any)
		if m["kind"] == "ServiceAccount" && m["namespace"] == "default" {
			m["namespace"] = ns
		}
	}
}
