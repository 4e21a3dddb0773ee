# No known vulnerability of a blocked severity (critical by default) that was published more than
# N days ago: teams get a grace period to patch, after which the artifact is refused.
# Parameters: data.wharf.params.no_critical_vulns (see README.md).
package wharf.policies.no_critical_vulns

default params := {}

params := data.wharf.params.no_critical_vulns

blocked_severities := {lower(s) | some s in object.get(params, "severities", ["critical"])}

grace_days := object.get(params, "graceDays", 0)

# Vulnerability ids accepted by a documented exception (e.g. not reachable in this image).
ignored := {id | some id in object.get(params, "ignore", [])}

require_scan := object.get(params, "requireScan", false)

ns_per_day := ((24 * 60) * 60) * 1000000000

# The evaluation time comes from the input so decisions are reproducible; the clock is a
# fallback, never a zero that would make every finding look brand new.
now_ns := time.parse_rfc3339_ns(input.now) if valid_now

now_ns := time.now_ns() if not valid_now

valid_now if is_number(time.parse_rfc3339_ns(input.now))

trust := input.trust if is_object(input.trust)

default trust := {}

default vulnerabilities := null

vulnerabilities := trust.vulnerabilities if is_object(trust.vulnerabilities)

# The full list when the input has one; else the supply-chain summary's worst findings, which
# rank critical ones first.
findings := vulnerabilities.findings if is_array(vulnerabilities.findings)

findings := vulnerabilities.worst if {
	not has_findings_list
	is_array(vulnerabilities.worst)
}

# A rule, so that the negation above holds without a findings list (as it does in OPA).
has_findings_list if is_array(vulnerabilities.findings)

default findings := []

# No scan: no vulnerability data at all, or a summary built without any vulnerability database.
unscanned if vulnerabilities == null

unscanned if vulnerabilities.databaseRecords == 0

id_of(finding) := object.get(finding, "id", "(without an id)")

package_of(finding) := object.get(finding, "package", object.get(finding, "purl", "?"))

# Days since publication; a finding without a readable date is treated as long known (fail closed).
age_days(finding) := (now_ns - time.parse_rfc3339_ns(finding.published)) / ns_per_day

age_days(finding) := 1e9 if not parseable_date(finding)

parseable_date(finding) if is_number(time.parse_rfc3339_ns(finding.published))

overdue contains finding if {
	some finding in findings
	lower(finding.severity) in blocked_severities
	not excepted(finding)
	age_days(finding) > grace_days
}

# Only a finding whose id is listed is excepted: one without an id stays counted (fail closed;
# under OPA's rules a negation over an undefined `finding.id` would be undefined and drop it).
excepted(finding) if finding.id in ignored

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
	some finding in overdue
	violation := {
		"msg": sprintf("%s: %s vulnerability %s in %s was published %s and is unfixed after the %v-day grace period", [
			object.get(input.artifact, "repository", "?"),
			lower(finding.severity),
			id_of(finding),
			package_of(finding),
			object.get(finding, "published", "at an unknown date"),
			grace_days,
		]),
		"code": "VULNERABILITY_OVERDUE",
		"details": {
			"id": id_of(finding),
			"severity": lower(finding.severity),
			"package": package_of(finding),
			"published": object.get(finding, "published", null),
			"fixed": object.get(finding, "fixed", null),
			"graceDays": grace_days,
		},
	}
}

deny contains violation if {
	applies
	require_scan
	unscanned
	violation := {
		"msg": sprintf("%s: no vulnerability scan is known for this artifact", [object.get(input.artifact, "repository", "?")]),
		"code": "VULNERABILITY_SCAN_MISSING",
		"details": {},
	}
}
