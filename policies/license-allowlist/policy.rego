# Every licence found in the artifact's SBOM must be on the allow-list.
# Parameters: data.wharf.params.license_allowlist (see README.md).
package wharf.policies.license_allowlist

default params := {}

params := data.wharf.params.license_allowlist

default_allowed := [
	"0BSD", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC0-1.0",
	"ISC", "MIT", "MIT-0", "PSF-2.0", "Python-2.0", "Unlicense", "Zlib",
]

# SPDX identifiers match case-insensitively.
allowed := {lower(l) | some l in object.get(params, "allowed", default_allowed)}

require_sbom := object.get(params, "requireSbom", false)

trust := input.trust if is_object(input.trust)

default trust := {}

default sbom := null

sbom := trust.sbom if is_object(trust.sbom)

# The supply-chain summary is an object even when no SBOM was pushed; its count says so.
no_sbom if sbom == null

no_sbom if sbom.count == 0

# The summary lists licences as strings; a {"license": …, "count": …} form is read too.
licence_name(entry) := entry if is_string(entry)

licence_name(entry) := entry.license if is_object(entry)

licences contains licence_name(entry) if {
	sbom != null
	some entry in object.get(sbom, "licenses", [])
}

# An SPDX expression is read as alternatives (OR) of conjunctions (AND); parentheses are
# flattened, which is exact for the common "(A OR B)" and "A AND B" forms.
alternatives(expr) := split(upper(trim_space(replace(replace(expr, "(", ""), ")", ""))), " OR ")

conjuncts(alternative) := [trim_space(t) | some t in split(alternative, " AND ")]

# "Apache-2.0 WITH LLVM-exception" is allowed when the whole term or its licence is allowed.
term_allowed(term) if lower(term) in allowed

term_allowed(term) if {
	contains(term, " WITH ")
	lower(trim_space(split(term, " WITH ")[0])) in allowed
}

expression_allowed(expr) if {
	some alternative in alternatives(expr)
	every term in conjuncts(alternative) {
		term_allowed(term)
	}
}

# A signature, attestation or SBOM is judged with its subject, never on its own: it is the evidence
# this policy reads about the subject (and is not itself signed, built or scanned), so it stays
# readable and verifiable whatever is decided about the subject. Wharf gives an attachment's input a
# `subject` (its subject's facts and trust); older inputs name the subject in artifact.subject.
is_attachment if is_object(input.subject)

is_attachment if is_string(input.artifact.subject)

applies if {
	input.point in {"push", "pull"}
	not is_attachment
}

applies if {
	input.point == "admission"
	input.artifact != null
}

deny contains violation if {
	applies
	some licence in licences
	not expression_allowed(licence)
	violation := {
		"msg": sprintf("%s: licence %q is not on the allow-list", [object.get(input.artifact, "repository", "?"), licence]),
		"code": "LICENSE_NOT_ALLOWED",
		"details": {"license": licence},
	}
}

deny contains violation if {
	applies
	require_sbom
	no_sbom
	violation := {
		"msg": sprintf("%s: no SBOM is known for this artifact", [object.get(input.artifact, "repository", "?")]),
		"code": "SBOM_MISSING",
		"details": {},
	}
}
