package wharf.policies.signed_within_test

import data.wharf.policies.signed_within as sw

push(now, pushed_at, signatures) := {
	"point": "push",
	"now": now,
	"artifact": {"repository": "team-a/app", "digest": "sha256:6666", "subject": null, "pushedAt": pushed_at},
	"trust": {"signatures": signatures, "attestations": [], "sbom": null, "vulnerabilities": null},
}

verified_cosign := {"type": "cosign", "signer": "key:ci (sha256:1)", "verified": true}

test_unsigned_push_quarantined_not_denied if {
	inp := push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", [])
	some v in sw.quarantine with input as inp
	v.code == "SIGNATURE_PENDING"
	v.details.deadline == "2026-11-23T00:10:00Z"
	v.msg == "team-a/app@sha256:6666: no verified signature yet, quarantined: pulls are refused until a signature arrives (expected within 10 minutes, by 2026-11-23T00:10:00Z)"
	not sw.deny with input as inp
}

test_signed_push_not_quarantined if {
	count(sw.quarantine) == 0 with input as push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", [verified_cosign])
}

test_unverified_signature_does_not_lift if {
	sig := object.union(verified_cosign, {"verified": false})
	count(sw.quarantine) == 1 with input as push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", [sig])
}

test_signature_arriving_later_lifts if {
	count(sw.quarantine) == 0 with input as push("2026-11-23T00:05:00Z", "2026-11-23T00:00:00Z", [verified_cosign])
	count(sw.quarantine) == 0 with input as push("2026-11-23T02:00:00Z", "2026-11-23T00:00:00Z", [verified_cosign])
}

test_after_window_overdue if {
	some v in sw.quarantine with input as push("2026-11-23T00:10:01Z", "2026-11-23T00:00:00Z", [])
	v.code == "SIGNATURE_OVERDUE"
	contains(v.msg, "signing window closed at 2026-11-23T00:10:00Z")
}

test_at_deadline_still_pending if {
	some v in sw.quarantine with input as push("2026-11-23T00:10:00Z", "2026-11-23T00:00:00Z", [])
	v.code == "SIGNATURE_PENDING"
}

test_missing_pushed_at_means_now if {
	inp := object.remove(push("2026-11-23T01:00:00Z", "", []), ["artifact"])
	inp2 := object.union(inp, {"artifact": {"repository": "team-a/app", "digest": "sha256:6666"}})
	some v in sw.quarantine with input as inp2
	v.details.deadline == "2026-11-23T01:10:00Z"
}

test_configured_window_and_types if {
	p := {"windowMinutes": 60, "types": ["notary-jws", "notary-cose"]}
	inp := push("2026-11-23T00:30:00Z", "2026-11-23T00:00:00Z", [verified_cosign])
	some v in sw.quarantine with input as inp with data.wharf.params.signed_within as p
	v.code == "SIGNATURE_PENDING"
	v.details.deadline == "2026-11-23T01:00:00Z"
	notation := {"type": "notary-jws", "signer": "CN=x", "verified": true}
	count(sw.quarantine) == 0 with input as push("2026-11-23T00:30:00Z", "2026-11-23T00:00:00Z", [notation])
		with data.wharf.params.signed_within as p
}

test_referrers_never_quarantined if {
	inp := object.union(push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", []), {"artifact": {"subject": "sha256:6666"}})
	count(sw.quarantine) == 0 with input as inp
}

test_pull_not_judged_here if {
	# Pulls of a quarantined artifact are refused by Wharf from the stored quarantine state.
	inp := object.union(push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", []), {"point": "pull"})
	count(sw.quarantine) == 0 with input as inp
	not sw.deny with input as inp
}

test_null_trust_quarantined if {
	inp := object.union(push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", []), {"trust": null})
	count(sw.quarantine) == 1 with input as inp
}

test_cosign_tag_attachments_never_quarantined if {
	tag := "sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sig"
	inp := object.union(push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", []), {"artifact": {"tag": tag}})
	count(sw.quarantine) == 0 with input as inp
}

test_ordinary_tags_still_quarantined if {
	inp := object.union(push("2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", []), {"artifact": {"tag": "v1.sig"}})
	count(sw.quarantine) == 1 with input as inp
}
