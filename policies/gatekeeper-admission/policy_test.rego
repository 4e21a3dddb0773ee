package wharf.policies.gatekeeper_admission_test

import data.wharf.policies.gatekeeper_admission as gk

limits := {"limits": {"cpu": "500m", "memory": "256Mi"}}

pod_spec := {
	"initContainers": [{"name": "init", "image": "registry.example.com/team-a/init:v1", "resources": {"limits": {"memory": "64Mi"}}}],
	"containers": [
		{"name": "web", "image": "registry.example.com/team-a/app:v1", "resources": limits},
		{"name": "sidecar", "image": "docker.io/library/alpine:3.20"},
	],
	"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
}

review(kind, obj, name, type, image, resolved) := {
	"point": "admission",
	"artifact": resolved,
	"admission": {
		"uid": "u1", "operation": "CREATE",
		"kind": {"group": "", "version": "v1", "kind": kind},
		"namespace": "prod", "name": "web",
		"container": {"name": name, "image": image, "type": type},
		"object": obj,
	},
}

resolved := {"repository": "team-a/app", "digest": "sha256:7777"}

pod(name, type, image) := review("Pod", {"spec": pod_spec}, name, type, image, resolved)

codes(inp) := {v.code | some v in violations} if {
	violations := gk.deny with input as inp
}

test_good_container_allowed if {
	codes(pod("web", "container", "registry.example.com/team-a/app:v1")) == set()
}

test_image_outside_registry_denied_by_default if {
	inp := review("Pod", {"spec": pod_spec}, "web", "container", "registry.example.com/team-a/app:v1", null)
	some v in gk.deny with input as inp
	v.code == "REPOSITORY_NOT_ALLOWED"
	v.msg == `container "web": image "registry.example.com/team-a/app:v1" is not served by this registry`
}

test_allowed_repos_prefixes if {
	p := {"allowedRepos": ["registry.example.com/team-a/", "ghcr.io/acme/"]}
	codes(pod("web", "container", "registry.example.com/team-a/app:v1")) == set() with data.wharf.params.gatekeeper_admission as p
	codes(pod("web", "container", "registry.example.com/team-b/app:v1")) == {"REPOSITORY_NOT_ALLOWED"} with data.wharf.params.gatekeeper_admission as p
	# With explicit prefixes, images Wharf did not resolve may still be allowed.
	inp := review("Pod", {"spec": pod_spec}, "web", "container", "ghcr.io/acme/app:v1", null)
	codes(inp) == set() with data.wharf.params.gatekeeper_admission as p
}

test_latest_tag_denied if {
	codes(pod("web", "container", "registry.example.com/team-a/app:latest")) == {"IMAGE_LATEST"}
}

test_untagged_denied if {
	some v in gk.deny with input as pod("web", "container", "registry.example.com/team-a/app")
	v.msg == `container "web": image "registry.example.com/team-a/app" has no tag or digest and so means :latest`
}

test_registry_port_is_not_a_tag if {
	codes(pod("web", "container", "localhost:5000/team-a/app")) == {"IMAGE_LATEST"}
	codes(pod("web", "container", "localhost:5000/team-a/app:v2")) == set()
}

test_digest_allowed if {
	codes(pod("web", "container", "registry.example.com/team-a/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")) == set()
}

test_container_without_limits_denied if {
	some v in gk.deny with input as pod("sidecar", "container", "docker.io/library/alpine:3.20")
	v.code == "LIMITS_MISSING"
	v.msg == `container "sidecar": no resource limit for cpu, memory`
}

test_init_container_partial_limits if {
	some v in gk.deny with input as pod("init", "initContainer", "registry.example.com/team-a/init:v1")
	v.details.missing == {"cpu"}
}

test_ephemeral_container_not_judged_on_limits if {
	codes(pod("debug", "ephemeralContainer", "busybox:1.36")) == set()
}

test_required_limits_configurable if {
	codes(pod("init", "initContainer", "registry.example.com/team-a/init:v1")) == set() with data.wharf.params.gatekeeper_admission as {"requiredLimits": ["memory"]}
}

test_deployment_template if {
	obj := {"spec": {"template": {"spec": pod_spec}}}
	codes(review("Deployment", obj, "sidecar", "container", "docker.io/library/alpine:3.20", resolved)) == {"LIMITS_MISSING"}
	codes(review("StatefulSet", obj, "web", "container", "registry.example.com/team-a/app:v1", resolved)) == set()
}

test_cronjob_template if {
	obj := {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}
	codes(review("CronJob", obj, "sidecar", "container", "docker.io/library/alpine:3.20", resolved)) == {"LIMITS_MISSING"}
}

test_object_kind_used_when_request_kind_missing if {
	inp := object.remove(pod("sidecar", "container", "docker.io/library/alpine:3.20"), ["admission"])
	adm := {"container": {"name": "sidecar", "image": "docker.io/library/alpine:3.20", "type": "container"}, "object": {"kind": "Pod", "spec": pod_spec}}
	codes(object.union(inp, {"admission": adm})) == {"LIMITS_MISSING"}
}

test_exempt_images if {
	p := {"exemptImages": ["docker.io/library/*"]}
	codes(pod("sidecar", "container", "docker.io/library/alpine:3.20")) == set() with data.wharf.params.gatekeeper_admission as p
}

test_every_problem_reported if {
	inp := review("Pod", {"spec": pod_spec}, "sidecar", "container", "alpine", null)
	codes(inp) == {"REPOSITORY_NOT_ALLOWED", "IMAGE_LATEST", "LIMITS_MISSING"}
}

test_not_applied_at_push if {
	inp := object.union(pod("sidecar", "container", "alpine"), {"point": "push"})
	codes(inp) == set()
}
