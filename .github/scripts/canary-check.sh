#!/usr/bin/env bash
# Watches a canary release before deploy.yml promotes it. For the whole window:
#  - every pod of its Deployments stays Ready and no container restarts (a crash, an OOM
#    kill or a failing liveness probe in the API, the processors or the workers);
#  - no Job of the release (the migrations) fails;
#  - the canary API's /readyz answers (PostgreSQL and Redis reachable from the new image);
# and at the end every Job has completed and the share of 5xx answers the canary API
# counted stays under a threshold.
# Exits 1 naming what failed, 2 on a usage error.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: .github/scripts/canary-check.sh RELEASE NAMESPACE SECONDS

Watch the Helm release RELEASE in NAMESPACE for SECONDS seconds; exit 0 if it stayed healthy.

Environment:
  CANARY_INTERVAL        seconds between two checks (default 20)
  CANARY_MAX_FAILURES    failed checks in a row that fail the canary (default 3)
  CANARY_MAX_ERROR_PCT   highest share of 5xx API answers, in whole percent (default 1)
  CANARY_MIN_REQUESTS    API requests needed before the error share is judged (default 50)
  CANARY_PORT            local port for the port-forward to the API (default 18080)
EOF
}

fail() {
  echo "canary-check: $*" >&2
  exit 1
}

usage_error() {
  echo "canary-check: $*" >&2
  echo "run with --help for usage" >&2
  exit 2
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
esac
[ $# -le 3 ] || usage_error "too many arguments: $*"
release=${1:-}
namespace=${2:-}
seconds=${3:-}
[ -n "$release" ] || usage_error "missing argument RELEASE (the canary's Helm release)"
[ -n "$namespace" ] || usage_error "missing argument NAMESPACE"
[ -n "$seconds" ] || usage_error "missing argument SECONDS (how long to watch)"
[[ "$seconds" =~ ^[0-9]+$ ]] || usage_error "SECONDS must be a whole number, not '$seconds'"

interval=${CANARY_INTERVAL:-20}
max_failures=${CANARY_MAX_FAILURES:-3}
max_error_pct=${CANARY_MAX_ERROR_PCT:-1}
min_requests=${CANARY_MIN_REQUESTS:-50}
port=${CANARY_PORT:-18080}

for tool in kubectl curl awk; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH; install it first"
done

selector="app.kubernetes.io/instance=$release"
kube=(kubectl --namespace "$namespace")

# One line per pod: name, restart counts of its containers, their readiness. Job pods are
# left out: a finished one is never ready; jobs are judged by their own conditions.
pod_states() {
  "${kube[@]}" get pods --selector "$selector,!job-name" --output \
    jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.containerStatuses[*].restartCount}{"\t"}{.status.containerStatuses[*].ready}{"\n"}{end}'
}

# One line per Job: name, the types of its true conditions (Complete, Failed, ...).
job_states() {
  "${kube[@]}" get jobs --selector "$selector" --output \
    jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.status=="True")].type}{"\n"}{end}'
}

service=$("${kube[@]}" get services \
  --selector "$selector,app.kubernetes.io/component=api" --output name) \
  || fail "cannot list the Services of $release in $namespace"
[ -n "$service" ] || fail "release $release has no API Service in $namespace"
service=${service%%$'\n'*}

states=$(pod_states) || fail "cannot list the pods of $release in $namespace"
[ -n "$states" ] || fail "release $release has no pods in $namespace"
declare -A restarts_at_start=()
while IFS=$'\t' read -r pod restarts _; do
  total=0
  for count in $restarts; do total=$((total + count)); done
  restarts_at_start[$pod]=$total
done <<<"$states"

forward_log=$(mktemp)
forward_pid=""
start_forward() {
  "${kube[@]}" port-forward "$service" "$port:http" >"$forward_log" 2>&1 &
  forward_pid=$!
  # Until the forward answers, or a few seconds: a canary that does not answer then is
  # caught by the checks below.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl --silent --output /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" && return 0
    sleep 1
  done
}
stop_forward() {
  if [ -n "$forward_pid" ]; then
    kill "$forward_pid" 2>/dev/null || true
    wait "$forward_pid" 2>/dev/null || true
  fi
  rm -f "$forward_log"
}
trap stop_forward EXIT

start_forward
echo "canary-check: watching $release in $namespace for ${seconds}s ($service, pods: ${!restarts_at_start[*]})"
deadline=$((SECONDS + seconds))
failures_in_a_row=0
checks=0
while :; do
  checks=$((checks + 1))
  problems=()
  states=$(pod_states) || states=""
  [ -n "$states" ] || problems+=("no pods of $release could be listed")
  while IFS=$'\t' read -r pod restarts ready; do
    [ -n "$pod" ] || continue
    total=0
    for count in $restarts; do total=$((total + count)); done
    # A restart is never transient: it fails the canary at once.
    if [ "$total" -gt "${restarts_at_start[$pod]:-0}" ]; then
      "${kube[@]}" get pod "$pod" --output wide >&2 || true
      fail "pod $pod of $release restarted during the canary window ($total restarts)"
    fi
    if [[ -z "$ready" || "$ready" == *false* ]]; then
      problems+=("pod $pod is not ready")
    fi
  done <<<"$states"
  job_lines=$(job_states) || problems+=("the Jobs of $release could not be listed")
  while IFS=$'\t' read -r job conditions; do
    if [[ -n "$job" && "$conditions" == *Failed* ]]; then
      fail "job $job of $release failed (kubectl --namespace $namespace logs job/$job)"
    fi
  done <<<"$job_lines"
  # The port-forward ends with the pod it was bound to; bind it again.
  if ! kill -0 "$forward_pid" 2>/dev/null; then
    start_forward
  fi
  if ! curl --silent --fail --output /dev/null --max-time 5 "http://127.0.0.1:$port/readyz"; then
    problems+=("GET /readyz of $service did not answer 200")
  fi
  if [ ${#problems[@]} -gt 0 ]; then
    failures_in_a_row=$((failures_in_a_row + 1))
    printf 'canary-check: check %d: %s\n' "$checks" "${problems[@]}" >&2
    if [ "$failures_in_a_row" -ge "$max_failures" ]; then
      fail "$release failed $failures_in_a_row checks in a row; last: ${problems[*]}"
    fi
  else
    failures_in_a_row=0
  fi
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep "$interval"
done

while IFS=$'\t' read -r job conditions; do
  if [[ -n "$job" && "$conditions" != *Complete* ]]; then
    fail "job $job of $release has not completed within ${seconds}s"
  fi
done <<<"$job_lines"

# The API's own request counter, without the probes' routes (this script's and the
# kubelet's). Each gunicorn worker counts only the requests it served, so this is the share
# of one worker: a sample, but of real traffic.
metrics=$(curl --silent --fail --max-time 5 "http://127.0.0.1:$port/metrics") \
  || fail "GET /metrics of $service did not answer 200"
read -r requests errors < <(awk '
  /^sluice_api_requests_total\{/ && !/route="\/(healthz|readyz|metrics)"/ {
    total += $NF
    if ($0 ~ /status="5[0-9][0-9]"/) errors += $NF
  }
  END { printf "%d %d\n", total, errors }
' <<<"$metrics")
if [ "$requests" -lt "$min_requests" ]; then
  echo "canary-check: only $requests API requests reached the sampled worker; the error share is not judged"
elif [ $((errors * 100)) -gt $((requests * max_error_pct)) ]; then
  fail "$errors of $requests API requests answered 5xx, above ${max_error_pct}%"
else
  echo "canary-check: $errors of $requests API requests answered 5xx (at most ${max_error_pct}% allowed)"
fi
echo "canary-check: $release stayed healthy for ${seconds}s ($checks checks)"
