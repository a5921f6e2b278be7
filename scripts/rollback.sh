#!/usr/bin/env bash
# Rolls a Helm release of Sluice back to an earlier revision, then checks that its workloads
# run again. deploy.yml calls it when a deploy that Helm accepted fails its smoke test; it
# works the same by hand. Exits 1 naming what failed, 2 on a usage error.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/rollback.sh RELEASE NAMESPACE [REVISION]

Roll the Helm release RELEASE in NAMESPACE back to REVISION and wait for it, then check
that every Deployment and StatefulSet of the release has rolled out.

  RELEASE     the Helm release, e.g. sluice
  NAMESPACE   its namespace, e.g. sluice
  REVISION    the revision to return to (see `helm history RELEASE -n NAMESPACE`); default:
              the newest revision before the latest one that was deployed successfully
              (failed revisions are skipped)

Options:
  -h, --help  show this help

Environment:
  ROLLBACK_TIMEOUT  how long helm and each rollout may take (default 10m)
EOF
}

fail() {
  echo "rollback: $*" >&2
  exit 1
}

usage_error() {
  echo "rollback: $*" >&2
  echo "usage: scripts/rollback.sh RELEASE NAMESPACE [REVISION] (--help for more)" >&2
  exit 2
}

# Arguments first: a mistyped call is reported as such on any machine, with or without the
# cluster tools.
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    -*) usage_error "unknown option: $arg" ;;
  esac
done
[ $# -le 3 ] || usage_error "too many arguments: $*"
release=${1:-}
namespace=${2:-}
revision=${3:-}
[ -n "$release" ] || usage_error "missing argument RELEASE (the Helm release to roll back)"
[ -n "$namespace" ] || usage_error "missing argument NAMESPACE (the release's namespace)"
if [ -n "$revision" ] && ! [[ "$revision" =~ ^[1-9][0-9]*$ ]]; then
  usage_error "REVISION must be a revision number, not '$revision'"
fi
timeout=${ROLLBACK_TIMEOUT:-10m}

for tool in helm kubectl; do
  command -v "$tool" >/dev/null 2>&1 \
    || fail "$tool is not on PATH: install it (deploy.yml: azure/setup-helm, azure/setup-kubectl) and point it at the cluster"
done

history=$(helm history "$release" --namespace "$namespace" --max 256 --output json 2>&1) \
  || fail "helm history of $release in $namespace failed: $history"

# "revision status" per line, oldest first. Helm writes each entry's fields in this order,
# and a quote inside a description is escaped, so the pattern cannot match inside one.
revisions=$(grep -oE '"revision":[0-9]+,"updated":"[^"]*","status":"[a-z-]+"' <<<"$history" \
  | sed -E 's/^"revision":([0-9]+),.*"status":"([a-z-]+)"$/\1 \2/' \
  | sort -n) || true
[ -n "$revisions" ] || fail "release $release has no revisions in $namespace (is it installed there?)"

latest=$(tail -n 1 <<<"$revisions" | cut -d' ' -f1)
current_line=$(grep -E ' deployed$' <<<"$revisions" | tail -n 1) || true
current=${current_line%% *}

if [ -z "$revision" ]; then
  # Revisions that once ran: "deployed" (the current one) or "superseded" (replaced later).
  revision=$(awk -v latest="$latest" '$1 < latest && ($2 == "deployed" || $2 == "superseded") { r = $1 } END { print r }' <<<"$revisions")
  [ -n "$revision" ] \
    || fail "release $release has no successfully deployed revision before revision $latest to roll back to"
else
  grep -qE "^$revision " <<<"$revisions" \
    || fail "revision $revision is not in the history of $release (revisions $(head -n 1 <<<"$revisions" | cut -d' ' -f1) to $latest)"
fi

echo "rollback: $release in $namespace: revision ${current:-none deployed} (latest $latest) -> $revision"
helm rollback "$release" "$revision" --namespace "$namespace" --wait --timeout "$timeout" \
  || fail "helm rollback of $release to revision $revision failed (see helm's message above)"

# The release's own workloads carry app.kubernetes.io/instance; the Airflow dependency's
# carry release=<name>.
workloads=$(
  for selector in "app.kubernetes.io/instance=$release" "release=$release"; do
    kubectl get deployments,statefulsets --namespace "$namespace" --selector "$selector" \
      --output name \
      || fail "kubectl cannot list the workloads of $release in $namespace"
  done | sort -u
) || exit 1 # the subshell has said why
[ -n "$workloads" ] || fail "no Deployment or StatefulSet of $release found in $namespace after the rollback"

unhealthy=()
while read -r workload; do
  if ! kubectl rollout status "$workload" --namespace "$namespace" --timeout "$timeout"; then
    unhealthy+=("$workload")
  fi
done <<<"$workloads"
if [ ${#unhealthy[@]} -gt 0 ]; then
  fail "rolled back to revision $revision, but these did not roll out: ${unhealthy[*]}"
fi
echo "rollback: $release in $namespace is at revision $revision and every workload has rolled out"
