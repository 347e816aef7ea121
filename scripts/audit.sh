#!/usr/bin/env bash
# Dependency audit for CI (.github/workflows/ci.yml, job `audit`; see docs/delivery.md): runs the
# audit command it is given, minus the findings accepted in .github/audit-allowlist.txt.
#
#   bash scripts/audit.sh npm [--prefix DIR] audit --audit-level=LEVEL [options]
#   bash scripts/audit.sh pip-audit --requirement FILE [options]
#   bash scripts/audit.sh unused      (after the others, with the same AUDIT_SEEN)
#
# npm: runs the command with --json and fails on every advisory at or above --audit-level that
#   the allow-list does not accept (npm itself cannot ignore an advisory), and on any answer that
#   is not an audit report (an unreachable or refusing advisory endpoint is a failure, not a pass).
# pip-audit: runs the command with --format json and fails on every vulnerability whose id and
#   aliases the allow-list does not accept (an id or an alias accepts it, as --ignore-vuln would),
#   and on any answer that is not a report.
# unused: fails on an accepted id that none of the audits recorded in AUDIT_SEEN reported (the
#   package was updated, the advisory withdrawn or rated below the level): its line must go, or it
#   would accept the same advisory unseen if it came back (through another package, a downgrade).
#   It checks nothing when one of those audits returned no report (that audit fails already).
#
# .github/audit-allowlist.txt: one accepted finding a line, `<id> <expires YYYY-MM-DD> <reason>`
# (id: GHSA-xxxx-xxxx-xxxx, PYSEC-YYYY-N or CVE-YYYY-N). An entry past its expiry, expiring more
# than AUDIT_MAX_DAYS (90) days ahead, without a reason, or malformed fails the audit, so an
# acceptance is reviewed at least every 90 days. AUDIT_ALLOWLIST and AUDIT_TODAY (YYYY-MM-DD)
# override the file and the date (tests). AUDIT_SEEN: a file each npm and pip-audit run appends
# to (the command, whether it returned a report, the accepted ids it reported), for `unused`.
set -euo pipefail

allowlist=${AUDIT_ALLOWLIST:-"$(dirname "${BASH_SOURCE[0]}")/../.github/audit-allowlist.txt"}
today=${AUDIT_TODAY:-$(date -u +%F)}
max_days=${AUDIT_MAX_DAYS:-90}

fail() {
  echo "audit: $*" >&2
  if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::error title=scripts/audit.sh::$*"; fi
}
# Days since the epoch of a YYYY-MM-DD date; fails on a date that does not exist (2026-02-30).
day() {
  local s
  s=$(date -u -d "$1" +%s 2>/dev/null) || return 1
  [ "$(date -u -d "@$s" +%F)" = "$1" ] || return 1
  echo $(( s / 86400 ))
}

(( $# > 0 )) || { fail "usage: scripts/audit.sh npm [--prefix DIR] audit --audit-level=LEVEL [options] | pip-audit --requirement FILE [options] | unused"; exit 2; }
today_day=$(day "$today") || { fail "AUDIT_TODAY '$today' is not a date (YYYY-MM-DD)"; exit 2; }

# The accepted ids, with why and until when; a bad entry fails the audit.
declare -A reason_of=() expires_of=() line_of=()
bad=0
if [ -f "$allowlist" ]; then
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    read -r id expires reason <<< "$line"
    where="$allowlist:$n"
    if [[ ! $id =~ ^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-[0-9]{4}-[0-9]+|CVE-[0-9]{4}-[0-9]+)$ ]]; then
      fail "$where: '$id' is not an advisory id (GHSA-xxxx-xxxx-xxxx, PYSEC-YYYY-N or CVE-YYYY-N)"; bad=1; continue
    fi
    if [ -n "${reason_of[$id]+set}" ]; then fail "$where: $id is listed twice"; bad=1; continue; fi
    if ! expires_day=$(day "$expires"); then
      fail "$where: $id: expiry '$expires' is not a date (YYYY-MM-DD)"; bad=1; continue
    fi
    if [ -z "$reason" ]; then fail "$where: $id: no reason given (why it is accepted, what would end it)"; bad=1; continue; fi
    if (( expires_day < today_day )); then
      fail "$where: $id expired on $expires: fix it, or review it and renew with a new date and reason"; bad=1; continue
    fi
    if (( expires_day - today_day > max_days )); then
      fail "$where: $id expires $expires, more than $max_days days ahead: accept it for $max_days days at most and review it then"; bad=1; continue
    fi
    reason_of[$id]=$reason
    expires_of[$id]=$expires
    line_of[$id]=$n
  done < "$allowlist"
fi
(( bad == 0 )) || exit 1

accepted_note() { echo "audit: accepted $1 until ${expires_of[$1]}: ${reason_of[$1]}"; }

# What `unused` reads: started/reported <command>, accepted <id>.
command_line="$*"
record() { if [ -n "${AUDIT_SEEN:-}" ]; then printf '%s\t%s\n' "$1" "$2" >> "$AUDIT_SEEN"; fi; }

case "$1" in
  pip-audit)
    record started "$command_line"
    status=0
    report=$("$@" --format json) || status=$?
    # (An empty answer too: jq -e passes no input at all.)
    if [ -z "$report" ] || ! jq -e '.dependencies | type == "array"' >/dev/null 2>&1 <<< "$report"; then
      fail "$* did not return an audit report (exit $status; pip-audit's own message, if any, is above)"
      exit 1
    fi
    record reported "$command_line"
    while IFS=$'\t' read -r name reason; do
      echo "audit: $name was not audited: $reason"
    done < <(jq -r '.dependencies[] | select(.skip_reason) | [.name, .skip_reason] | @tsv' <<< "$report")
    # Every vulnerability: id, its aliases, package, version, the versions that fix it. Separated
    # by \x1f, not tabs: read collapses a run of tabs (whitespace), so a vulnerability with no
    # aliases would shift its package into the aliases and its fix into the version.
    found=$(jq -r '.dependencies[] | .name as $n | .version as $v | (.vulns // [])[]
      | [.id, ((.aliases // []) | join(" ")), $n, $v, ((.fix_versions // []) | join(", "))] | @tsv' <<< "$report" | tr '\t' '\037')
    open=0 total=0
    while IFS=$'\037' read -r id aliases name version fixes; do
      [ -n "$id" ] || continue
      total=$((total + 1))
      matched=()
      for known in $id $aliases; do if [ -n "${reason_of[$known]+set}" ]; then matched+=("$known"); fi; done
      if (( ${#matched[@]} > 0 )); then
        for known in "${matched[@]}"; do record accepted "$known"; accepted_note "$known"; done
      else
        fail "$id${aliases:+ ($aliases)} in $name $version: fixed in ${fixes:-no release yet} (https://osv.dev/vulnerability/$id)"
        open=$((open + 1))
      fi
    done <<< "$found"
    if (( open > 0 )); then
      echo "audit: $open of $total known vulnerability(ies) not accepted. Update the package, or accept the finding in .github/audit-allowlist.txt (docs/delivery.md)" >&2
      exit 1
    fi
    if (( status != 0 && total == 0 )); then
      fail "$* exited $status but the report lists no vulnerability: $(jq -c . <<< "$report" | head -c 2000)"
      exit 1
    fi
    echo "audit: $*: ${total} known vulnerability(ies), every one accepted"
    ;;
  npm)
    record started "$command_line"
    level=""
    for arg in "$@"; do if [[ $arg =~ ^--audit-level=(.+)$ ]]; then level=${BASH_REMATCH[1]}; fi; done
    severities=(info low moderate high critical)
    at_or_above=""
    for s in "${severities[@]}"; do
      if [ "$s" = "$level" ] || [ -n "$at_or_above" ]; then at_or_above+="${at_or_above:+,}\"$s\""; fi
    done
    if [ -z "$at_or_above" ]; then fail "npm: pass --audit-level=<${severities[*]}>"; exit 2; fi
    status=0
    report=$("$@" --json) || status=$?
    # (An empty answer too: jq -e passes no input at all.)
    if [ -z "$report" ] || ! jq -e '.vulnerabilities | type == "object"' >/dev/null 2>&1 <<< "$report"; then
      fail "$* did not return an audit report (exit $status): $(jq -r '.message // .error.summary // empty' 2>/dev/null <<< "$report" | head -1)"
      exit 1
    fi
    record reported "$command_line"
    counts=$(jq -r '.metadata.vulnerabilities | to_entries | map("\(.value) \(.key)") | join(", ")' <<< "$report")
    if (( status == 0 )); then
      echo "audit: $*: nothing at or above $level ($counts)"
      exit 0
    fi
    # Every advisory at or above the level, once: id, severity, package, range, title, url.
    found=$(jq -r --argjson sev "[$at_or_above]" '[.vulnerabilities[].via[] | objects | select(.severity as $s | $sev | index($s))]
      | unique_by(.url)[] | [(.url | split("/") | last), .severity, .name, .range, .title, .url] | @tsv' <<< "$report")
    if [ -z "$found" ]; then
      fail "$* exited $status but the report lists no advisory at or above $level: $(jq -c . <<< "$report" | head -c 2000)"
      exit 1
    fi
    open=0
    while IFS=$'\t' read -r id severity name range title url; do
      if [ -n "${reason_of[$id]+set}" ]; then
        record accepted "$id"
        accepted_note "$id"
      else
        fail "$severity $id in $name $range: $title ($url)"
        open=$((open + 1))
      fi
    done <<< "$found"
    if (( open > 0 )); then
      echo "audit: $open advisory(ies) at or above $level ($counts). Update the package, or accept the finding in .github/audit-allowlist.txt (docs/delivery.md)" >&2
      exit 1
    fi
    echo "audit: $*: every advisory at or above $level is accepted ($counts)"
    ;;
  unused)
    if [ -z "${AUDIT_SEEN:-}" ] || [ ! -s "$AUDIT_SEEN" ]; then
      fail "unused: no audit recorded${AUDIT_SEEN:+ in $AUDIT_SEEN}: run the npm and pip-audit audits first, each with AUDIT_SEEN set to the same file"
      exit 2
    fi
    # The last run of each command counts (a rerun replaces what it said before).
    declare -A state=() met=()
    started=()
    while IFS=$'\t' read -r kind value; do
      case $kind in
        started) if [ -z "${state[$value]+set}" ]; then started+=("$value"); fi; state[$value]=started ;;
        reported) state[$value]=reported ;;
        accepted) met[$value]=1 ;;
      esac
    done < "$AUDIT_SEEN"
    for c in "${started[@]}"; do
      if [ "${state[$c]}" != reported ]; then
        echo "audit: not checking the allow-list for unused entries: '$c' returned no report, so which accepted ids it would report is unknown (that step fails on its own)"
        exit 0
      fi
    done
    stale=0
    for id in "${!reason_of[@]}"; do
      if [ -z "${met[$id]+set}" ]; then
        fail "$allowlist:${line_of[$id]}: $id is accepted until ${expires_of[$id]}, but no audit reports it any more (updated, withdrawn, or rated below the level): remove its line, or it would accept the same advisory unseen if it came back"
        stale=$((stale + 1))
      fi
    done
    if (( stale > 0 )); then exit 1; fi
    echo "audit: every accepted id (${#reason_of[@]}) was reported by one of: $(printf "'%s' " "${started[@]}")"
    ;;
  *)
    fail "unknown audit command '$1' (npm, pip-audit or unused)"; exit 2
    ;;
esac
