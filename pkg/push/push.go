// Package push delivers a bundle to where Envoy reads it: a directory Envoy
// watches, or Kubernetes ConfigMaps. Delivery is all or nothing, and
// idempotent by digest.
package push

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/edgectl/edgectl/pkg/bundle"
)

// ErrDigestMismatch means the bundle is not the one that was reviewed.
var ErrDigestMismatch = errors.New("bundle digest differs from --expect-digest")

// Options tune a push. The zero value pushes.
type Options struct {
	// ExpectDigest, if set, refuses any other bundle: CI pushes exactly
	// what was reviewed.
	ExpectDigest string
	// DryRun says what would happen and changes nothing.
	DryRun bool
}

// Result says what a push did.
type Result struct {
	Gateway  string // the bundle's gateway
	Status   string // "pushed", "up to date", "would push" on a dry run, "rolled back"
	Digest   string // the bundle's
	Previous string // what the target held before, "" if nothing
	Detail   []string
}

const (
	Pushed    = "pushed"
	UpToDate  = "up to date"
	WouldPush = "would push"
	// RolledBack is the status of a rollback that changed the version.
	RolledBack = "rolled back"
)

// restartNote says when a push needs more than the target: Envoy reads its
// bootstrap only at start.
func restartNote(prev, next *bundle.Bundle) []string {
	if prev == nil || bytes.Equal(prev.File(bundle.FilesBootstrapFile), next.File(bundle.FilesBootstrapFile)) {
		return nil
	}
	return []string{bundle.FilesBootstrapFile + " changed: Envoy reads it only at start, so restart Envoy to apply it"}
}

func checkExpected(digest, expected string) error {
	if expected != "" && digest != expected {
		return fmt.Errorf("%w: the bundle is %s, but %s was expected", ErrDigestMismatch, digest, expected)
	}
	return nil
}

// Target is a parsed --to URL.
type Target struct {
	Scheme    string // "file" or "k8s"
	Path      string // file
	Context   string // k8s, optional
	Namespace string // k8s
	Name      string // k8s
}

// ParseTarget reads file:///path and k8s://[context/]namespace/name.
func ParseTarget(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "file:") && !strings.HasPrefix(s, "file://"):
		return Target{}, fmt.Errorf("target %q: write file:///path, with three slashes", s)
	case strings.HasPrefix(s, "file://"):
		p := strings.TrimPrefix(s, "file://")
		if p == "" {
			return Target{}, fmt.Errorf("target %q: missing a path (file:///var/lib/envoy/xds)", s)
		}
		// file://HOST/PATH: a host part is what two slashes make of the
		// first directory name, so file://tmp/x would be x relative to
		// wherever edgectl runs. Only the local host is meant.
		host, rest, _ := strings.Cut(p, "/")
		if host == "localhost" {
			host, p = "", "/"+rest
		}
		if host != "" {
			return Target{}, fmt.Errorf("target %q: a file URL names a host before its path, and %q is not one; write three slashes for a directory: file:///%s", s, host, p)
		}
		return Target{Scheme: "file", Path: p}, nil
	case strings.HasPrefix(s, "k8s://"):
		parts := strings.Split(strings.TrimPrefix(s, "k8s://"), "/")
		t := Target{Scheme: "k8s"}
		switch len(parts) {
		case 2:
			t.Namespace, t.Name = parts[0], parts[1]
		case 3:
			t.Context, t.Namespace, t.Name = parts[0], parts[1], parts[2]
		default:
			return Target{}, fmt.Errorf("target %q: want k8s://[context/]namespace/name", s)
		}
		if t.Namespace == "" || t.Name == "" {
			return Target{}, fmt.Errorf("target %q: want k8s://[context/]namespace/name", s)
		}
		return t, nil
	}
	return Target{}, fmt.Errorf("target %q: want file:///path or k8s://[context/]namespace/name", s)
}
