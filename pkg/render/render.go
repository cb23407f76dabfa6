// Package render turns a bundle into Kubernetes manifests for GitOps
// controllers that apply what a tool prints (Argo CD's config management
// plugins, Flux via an OCI artifact): the ConfigMaps edgectl push would
// apply, and optionally an Envoy Deployment and Service that mount them.
package render

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/edgectl/edgectl/pkg/bundle"
	"github.com/edgectl/edgectl/pkg/push"
)

// DefaultImage is the Envoy image of the rendered Deployment.
const DefaultImage = "envoyproxy/envoy:v1.36-latest"

// AnnBootstrap, on the pod template, changes when the bootstrap does, so
// Kubernetes rolls the pods: Envoy reads its bootstrap only at start.
// Changes to xDS files reach running pods through the mounted ConfigMaps.
const AnnBootstrap = "edgectl.dev/bootstrap-sha256"

// Options shape the manifests. The zero value renders ConfigMaps named
// envoy-<gateway> without a namespace.
type Options struct {
	Namespace   string
	Name        string            // default envoy-<gateway>
	Annotations map[string]string // added to every object, e.g. the Git revision
	// Envoy adds a Deployment and a Service named like the ConfigMaps.
	Envoy       bool
	Image       string // default DefaultImage
	Replicas    int    // default 2
	ServiceType string // default ClusterIP
}

// Name is the default name of a gateway's objects.
func Name(gateway string) string { return "envoy-" + gateway }

var (
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hasLetter = regexp.MustCompile(`[a-z]`)
)

// Objects returns the manifests for one bundle, in apply order.
func Objects(b *bundle.Bundle, o Options) ([]any, error) {
	o.Name = cmp.Or(o.Name, Name(b.Gateway))
	// Shards add "-N"; a Service name is a DNS label.
	if len(o.Name) > 57 || !dnsLabel.MatchString(o.Name) {
		return nil, fmt.Errorf("name %q: want lowercase letters, digits and '-', at most 57 characters (a Service name, with room for ConfigMap shard suffixes)", o.Name)
	}
	cms, err := push.ConfigMaps(b, o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, cm := range cms {
		for k, v := range o.Annotations {
			cm.Metadata.Annotations[k] = v
		}
		out = append(out, cm)
	}
	if !o.Envoy {
		return out, nil
	}
	ports, err := listenerPorts(b)
	if err != nil {
		return nil, err
	}
	var shards []string
	for _, cm := range cms {
		shards = append(shards, cm.Metadata.Name)
	}
	return append(out, service(b, o, ports), deployment(b, o, ports, shards)), nil
}

// Write prints objects as a YAML stream.
func Write(w io.Writer, objs []any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, obj := range objs {
		if err := enc.Encode(obj); err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type port struct {
	name   string // the listener's, "" if it is not a valid port name
	number uint32
}

// listenerPorts reads the ports Envoy listens on from the bundle's
// listeners.
func listenerPorts(b *bundle.Bundle) ([]port, error) {
	res, err := b.Resources()
	if err != nil {
		return nil, err
	}
	var ports []port
	for _, l := range res.Listeners {
		sa := l.GetAddress().GetSocketAddress()
		if sa == nil {
			continue
		}
		p := port{number: sa.GetPortValue()}
		if portName(l.Name) {
			p.name = l.Name
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// portName says whether s may name a container port (IANA_SVC_NAME).
func portName(s string) bool {
	return len(s) <= 15 && dnsLabel.MatchString(s) && !strings.Contains(s, "--") && hasLetter.MatchString(s)
}

type meta = push.ObjectMeta

func labels(b *bundle.Bundle, name string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     "envoy",
		"app.kubernetes.io/instance": name,
		push.LabelManagedBy:          "edgectl",
		push.LabelGateway:            b.Gateway,
	}
}

func selector(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "envoy", "app.kubernetes.io/instance": name}
}

func objectMeta(b *bundle.Bundle, o Options) meta {
	return meta{Name: o.Name, Namespace: o.Namespace, Labels: labels(b, o.Name), Annotations: o.Annotations}
}

type Service struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   meta        `yaml:"metadata"`
	Spec       ServiceSpec `yaml:"spec"`
}

type ServiceSpec struct {
	Type     string            `yaml:"type"`
	Selector map[string]string `yaml:"selector"`
	Ports    []ServicePort     `yaml:"ports"`
}

type ServicePort struct {
	Name       string `yaml:"name"`
	Port       uint32 `yaml:"port"`
	TargetPort uint32 `yaml:"targetPort"`
	Protocol   string `yaml:"protocol"`
}

func service(b *bundle.Bundle, o Options, ports []port) Service {
	s := Service{APIVersion: "v1", Kind: "Service", Metadata: objectMeta(b, o),
		Spec: ServiceSpec{Type: cmp.Or(o.ServiceType, "ClusterIP"), Selector: selector(o.Name)}}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, ServicePort{
			Name: cmp.Or(p.name, "port-"+strconv.Itoa(int(p.number))), Port: p.number, TargetPort: p.number, Protocol: "TCP"})
	}
	return s
}

type Deployment struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   meta           `yaml:"metadata"`
	Spec       DeploymentSpec `yaml:"spec"`
}

type DeploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata meta    `yaml:"metadata"`
		Spec     PodSpec `yaml:"spec"`
	} `yaml:"template"`
}

type PodSpec struct {
	Containers []Container `yaml:"containers"`
	Volumes    []Volume    `yaml:"volumes"`
}

type Container struct {
	Name           string          `yaml:"name"`
	Image          string          `yaml:"image"`
	Command        []string        `yaml:"command"`
	Args           []string        `yaml:"args"`
	Ports          []ContainerPort `yaml:"ports,omitempty"`
	ReadinessProbe *Probe          `yaml:"readinessProbe,omitempty"`
	VolumeMounts   []VolumeMount   `yaml:"volumeMounts"`
}

type ContainerPort struct {
	Name          string `yaml:"name,omitempty"`
	ContainerPort uint32 `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

type Probe struct {
	TCPSocket struct {
		Port uint32 `yaml:"port"`
	} `yaml:"tcpSocket"`
	PeriodSeconds int `yaml:"periodSeconds"`
}

type VolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

type Volume struct {
	Name      string `yaml:"name"`
	Projected struct {
		Sources []ProjectedSource `yaml:"sources"`
	} `yaml:"projected"`
}

type ProjectedSource struct {
	ConfigMap struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
}

// deployment runs Envoy with the bundle's file-based bootstrap, reading the
// ConfigMaps from one projected volume mounted (never with subPath, which
// kubelet does not update) where the bootstrap expects the xDS files.
func deployment(b *bundle.Bundle, o Options, ports []port, shards []string) Deployment {
	d := Deployment{APIVersion: "apps/v1", Kind: "Deployment", Metadata: objectMeta(b, o)}
	d.Spec.Replicas = cmp.Or(o.Replicas, 2)
	d.Spec.Selector.MatchLabels = selector(o.Name)
	sum := sha256.Sum256(b.File(bundle.FilesBootstrapFile))
	d.Spec.Template.Metadata = meta{Labels: labels(b, o.Name),
		Annotations: map[string]string{AnnBootstrap: hex.EncodeToString(sum[:])}}

	dir := b.Manifest.XDSDirectory
	c := Container{
		Name: "envoy", Image: cmp.Or(o.Image, DefaultImage), Command: []string{"envoy"},
		Args:         []string{"--config-path", path.Join(dir, bundle.FilesBootstrapFile)},
		VolumeMounts: []VolumeMount{{Name: "xds", MountPath: dir, ReadOnly: true}},
	}
	for _, p := range ports {
		c.Ports = append(c.Ports, ContainerPort{Name: p.name, ContainerPort: p.number, Protocol: "TCP"})
	}
	if len(ports) > 0 {
		// A listener accepts once Envoy has loaded LDS from the volume.
		c.ReadinessProbe = &Probe{PeriodSeconds: 5}
		c.ReadinessProbe.TCPSocket.Port = ports[0].number
	}
	v := Volume{Name: "xds"}
	for _, s := range shards {
		var src ProjectedSource
		src.ConfigMap.Name = s
		v.Projected.Sources = append(v.Projected.Sources, src)
	}
	d.Spec.Template.Spec = PodSpec{Containers: []Container{c}, Volumes: []Volume{v}}
	return d
}
