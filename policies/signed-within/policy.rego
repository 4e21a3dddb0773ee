# "Must be signed within N minutes": an artifact pushed without a verified signature is stored but
# quarantined. While quarantined, Wharf refuses pulls of it; pushing a signature for it
# re-evaluates the policy, and the quarantine lifts once a verified signature is found.
# Past the window the artifact stays quarantined and the message says the deadline was missed.
# Parameters: data.wharf.params.signed_within (see README.md).
package wharf.policies.signed_within

default params := {}

params := data.wharf.params.signed_within

window_minutes := object.get(params, "windowMinutes", 10)

# Empty: any verified signature lifts the quarantine.
accepted_types := {t | some t in object.get(params, "types", [])}

at_push if input.point == "push"

# Signatures, SBOMs and other attachments are never quarantined themselves: they are what lifts it.
# Wharf gives an attachment's input its `subject` (facts and trust of what it is about).
is_referrer if is_object(input.subject)

is_referrer if is_string(input.artifact.subject)

# Nor are attachments stored the older way, under cosign's tags (sha256-<hex>.sig/.att/.sbom).
is_referrer if regex.match(`^sha256-[a-f0-9]{64}\.(sig|att|sbom)$`, input.artifact.tag)

# trust is null or absent when nothing is known about the digest.
trust := input.trust if is_object(input.trust)

default trust := {}

signatures := object.get(trust, "signatures", [])

acceptable(sig) if {
	sig.verified == true
	count(accepted_types) == 0
}

acceptable(sig) if {
	sig.verified == true
	sig.type in accepted_types
}

signed if {
	some sig in signatures
	acceptable(sig)
}

window_ns := (window_minutes * 60) * 1000000000

now_ns := time.parse_rfc3339_ns(input.now) if is_string(input.now)

# A negation over a call with an undefined argument is undefined in OPA, not true: negate a rule.
now_ns := time.now_ns() if not now_given

now_given if is_string(input.now)

# At the first evaluation of a push, pushedAt is now.
pushed_ns := time.parse_rfc3339_ns(input.artifact.pushedAt) if is_string(input.artifact.pushedAt)

pushed_ns := now_ns if not pushed_at_given

pushed_at_given if is_string(input.artifact.pushedAt)

deadline := time.format(pushed_ns + window_ns)

overdue if now_ns > pushed_ns + window_ns

subject := sprintf("%s@%s", [input.artifact.repository, input.artifact.digest])

quarantine contains violation if {
	at_push
	not is_referrer
	not signed
	not overdue
	violation := {
		"msg": sprintf("%s: no verified signature yet, quarantined: pulls are refused until a signature arrives (expected within %v minutes, by %s)", [subject, window_minutes, deadline]),
		"code": "SIGNATURE_PENDING",
		"details": {"deadline": deadline, "windowMinutes": window_minutes},
	}
}

quarantine contains violation if {
	at_push
	not is_referrer
	not signed
	overdue
	violation := {
		"msg": sprintf("%s: the %v-minute signing window closed at %s without a verified signature; pulls stay refused until one arrives", [subject, window_minutes, deadline]),
		"code": "SIGNATURE_OVERDUE",
		"details": {"deadline": deadline, "windowMinutes": window_minutes},
	}
}
