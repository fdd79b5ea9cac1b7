// Command validate-chart reads rendered Kubernetes manifests (helm template's multi-document YAML) on stdin and
// decodes every object strictly into its API type: an unknown or misspelt field, a duplicate field, a wrong type,
// an unparsable quantity or an apiVersion/kind it does not know fails, with no cluster. It prints one line per
// object ("ok <apiVersion> <kind> <name>") and exits 1 when any object fails.
//
// Built-in kinds are decoded into k8s.io/api's types, ServiceMonitor into prometheus-operator's own type. KEDA's
// ScaledObject and TriggerAuthentication are decoded into the structs below, which mirror the published CRD fields
// (keda.sh/v1alpha1) that a chart may use: KEDA's Go module brings every scaler's client library along.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The kinds a chart may render, by apiVersion and kind; anything else fails.
var kinds = map[string]func() any{
	"v1/ConfigMap":                             func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                func() any { return &corev1.Secret{} },
	"v1/Service":                               func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                        func() any { return &corev1.ServiceAccount{} },
	"v1/Pod":                                   func() any { return &corev1.Pod{} },
	"apps/v1/Deployment":                       func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                             func() any { return &batchv1.Job{} },
	"networking.k8s.io/v1/Ingress":             func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":       func() any { return &networkingv1.NetworkPolicy{} },
	"policy/v1/PodDisruptionBudget":            func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":   func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"rbac.authorization.k8s.io/v1/Role":        func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding": func() any { return &rbacv1.RoleBinding{} },
	"monitoring.coreos.com/v1/ServiceMonitor":  func() any { return &monitoringv1.ServiceMonitor{} },
	"keda.sh/v1alpha1/ScaledObject":            func() any { return &ScaledObject{} },
	"keda.sh/v1alpha1/TriggerAuthentication":   func() any { return &TriggerAuthentication{} },
}

// ScaledObject mirrors keda.sh/v1alpha1 ScaledObject (KEDA v2 CRD, spec fields as published).
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ScaledObjectSpec `json:"spec"`
}

type ScaledObjectSpec struct {
	ScaleTargetRef        ScaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32         `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32         `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32         `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32         `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32         `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32         `json:"maxReplicaCount,omitempty"`
	Advanced              *Advanced      `json:"advanced,omitempty"`
	Triggers              []ScaleTrigger `json:"triggers"`
	Fallback              *Fallback      `json:"fallback,omitempty"`
}

type ScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type Advanced struct {
	HorizontalPodAutoscalerConfig *HPAConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool       `json:"restoreToOriginalReplicaCount,omitempty"`
}

type HPAConfig struct {
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	Name     string                                         `json:"name,omitempty"`
}

type Fallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior,omitempty"`
}

type ScaleTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *AuthRef          `json:"authenticationRef,omitempty"`
	MetricType        string            `json:"metricType,omitempty"`
}

type AuthRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// TriggerAuthentication mirrors keda.sh/v1alpha1 TriggerAuthentication (secret and environment references).
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              TriggerAuthenticationSpec `json:"spec"`
}

type TriggerAuthenticationSpec struct {
	SecretTargetRef []SecretTargetRef `json:"secretTargetRef,omitempty"`
	Env             []EnvRef          `json:"env,omitempty"`
}

type SecretTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

type EnvRef struct {
	Parameter     string `json:"parameter"`
	Name          string `json:"name"`
	ContainerName string `json:"containerName,omitempty"`
}

// check decodes one document; an empty one (a template that rendered nothing) is skipped.
func check(doc []byte) (string, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return "", nil
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := k8sjson.UnmarshalCaseSensitivePreserveInts(data, &meta); err != nil {
		return "", fmt.Errorf("no apiVersion/kind: %w", err)
	}
	id := meta.APIVersion + " " + meta.Kind + " " + meta.Metadata.Name
	makeObject, known := kinds[meta.APIVersion+"/"+meta.Kind]
	if !known {
		return id, fmt.Errorf("unknown apiVersion/kind %s/%s", meta.APIVersion, meta.Kind)
	}
	object := makeObject()
	// The apiserver's own strict decoding: case-sensitive, unknown and duplicate fields refused.
	strict, err := k8sjson.UnmarshalStrict(data, object)
	if err != nil {
		return id, err
	}
	if len(strict) > 0 {
		return id, errors.Join(strict...)
	}
	if problems := validation.IsDNS1123Subdomain(meta.Metadata.Name); len(problems) > 0 {
		return id, fmt.Errorf("metadata.name %q: %v", meta.Metadata.Name, problems)
	}
	return id, nil
}

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed, count := 0, 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL reading the input: %v\n", err)
			os.Exit(1)
		}
		id, err := check(doc)
		if err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", id, err)
			continue
		}
		if id != "" {
			count++
			fmt.Printf("ok %s\n", id)
		}
	}
	if failed > 0 || count == 0 {
		fmt.Printf("%d objects valid, %d failed\n", count, failed)
		os.Exit(1)
	}
	fmt.Printf("%d objects valid, 0 failed\n", count)
}
