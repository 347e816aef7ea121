#!/usr/bin/env bash
# Rolls the ECS service onto a new task-definition revision that runs $IMAGE (the revision the
# service runs now, with only the container's image changed), and succeeds only
# when that revision is what the service runs: its deployment is PRIMARY and COMPLETED.
#
# Used by the release workflow's deploy job (.github/workflows/release.yml), with the AWS CLI
# and jq of the runner. It replaces aws-actions/amazon-ecs-deploy-task-definition v1, which
# (1) refused every task definition ECS has returned since early 2025 ("Unexpected key
# 'enableFaultInjection'", the action's bundled SDK predates the field), and (2) reported success
# after the deployment circuit breaker rolled the service back, because a rolled-back service is
# "stable" too (aws-actions/amazon-ecs-deploy-task-definition#191).
#
# Environment: see usage below. Writes `task-definition-arn=<arn>` and
# `model-uri=<the container's MODEL_URI, empty when it serves its image's bundle>` to
# $GITHUB_OUTPUT when set.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: ECS_CLUSTER=… ECS_SERVICE=… ECS_TASK_FAMILY=… ECS_CONTAINER_NAME=… IMAGE=… bash scripts/ecs-deploy.sh

Registers the revision the service runs again with IMAGE on container ECS_CONTAINER_NAME, rolls
service ECS_SERVICE of cluster ECS_CLUSTER onto it, and succeeds only when that revision is what
the service runs (its deployment PRIMARY and COMPLETED); the service must run a revision of family
ECS_TASK_FAMILY. Needs the AWS CLI (credentials for the service's account and region) and jq.

Required: ECS_CLUSTER, ECS_SERVICE, ECS_TASK_FAMILY, ECS_CONTAINER_NAME (the ChurnGateway stack's:
churn-gateway, churn-gateway, churn-gateway, gateway), IMAGE (e.g. docker.io/<user>/churn-gateway:<git sha>).
Optional: WAIT_MINUTES (20), POLL_SECONDS (15).
EOF
}

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  usage
  exit 0
fi
# It takes no arguments: a mistyped --help must not roll production.
if (($# > 0)); then
  echo "ecs-deploy.sh: unknown argument: $1 (it takes no arguments; the settings are environment variables)" >&2
  usage >&2
  exit 2
fi
required=(ECS_CLUSTER ECS_SERVICE ECS_TASK_FAMILY ECS_CONTAINER_NAME IMAGE)
missing=()
for name in "${required[@]}"; do
  if [[ -z "${!name:-}" ]]; then missing+=("$name"); fi
done
if ((${#missing[@]} > 0)); then
  echo "ecs-deploy.sh: not set: ${missing[*]}" >&2
  usage >&2
  exit 2
fi
wait_minutes=${WAIT_MINUTES:-20}
poll_seconds=${POLL_SECONDS:-15}

# The revision the service runs, not the family's newest: after a rollback (the circuit breaker's,
# or an operator's update-service to an older revision) the newest is the one that failed, and
# copying it would carry whatever broke it into this release.
running=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
  --query 'services[0].taskDefinition' --output text)
if [[ ! "$running" =~ ^arn:aws[a-z-]*:ecs:[^:]+:[0-9]+:task-definition/([^:]+):[0-9]+$ ]]; then
  echo "::error::service $ECS_SERVICE not found in cluster $ECS_CLUSTER (describe-services answered: $running)"
  exit 1
fi
if [[ "${BASH_REMATCH[1]}" != "$ECS_TASK_FAMILY" ]]; then
  echo "::error::service $ECS_SERVICE runs $running, not a revision of family $ECS_TASK_FAMILY; registering nothing"
  exit 1
fi
# A rollout still in progress (a cdk deploy, an operator's update-service, a circuit breaker's
# rollback): the service's taskDefinition is then the revision it is rolling onto, whose settings
# may be what is failing, and a copy of it would carry them into this release, or into a rollback
# (infra/README.md offers this script for one). Nothing is registered while one is.
# shellcheck disable=SC2016 # the backquotes are JMESPath's literal, not a command
rolling=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
  --query 'services[0].deployments[?rolloutState==`IN_PROGRESS`].taskDefinition' --output text)
if [[ -n "${rolling//[[:space:]]/}" && "$rolling" != None ]]; then
  echo "::error::service $ECS_SERVICE is rolling onto ${rolling//[[:space:]]/ } (a deployment IN_PROGRESS); registering nothing, since a copy of that revision would carry its settings. Wait until the rollout completes or fails (the circuit breaker then rolls the service back) and run this again, or roll back at once: aws ecs update-service --cluster $ECS_CLUSTER --service $ECS_SERVICE --task-definition <a revision that served well>"
  exit 1
fi
current=$(aws ecs describe-task-definition --task-definition "$running" --query taskDefinition --output json)
echo "current revision (the service runs it): $running"
echo "current image: $(jq -r --arg c "$ECS_CONTAINER_NAME" '.containerDefinitions[] | select(.name == $c) | .image' <<<"$current")"

# The same task definition with the new image: the fields ECS reports about a registered
# revision are dropped (register-task-definition does not take them); every other field,
# known to this CLI or newer, is kept as it is. But enableFaultInjection, which ECS has reported on
# every revision since early 2025 (above), is dropped when false (ECS's default, so the copy is the
# same): an AWS CLI that predates the field refuses the whole input for it ("Unknown parameter in input"), at
# incident time too (infra/README.md offers this script for a rollback). When true it is kept,
# and such a CLI refuses it: dropping it would turn fault injection off without a word.
input=$(jq --arg c "$ECS_CONTAINER_NAME" --arg image "$IMAGE" '
  if ([.containerDefinitions[] | select(.name == $c)] | length) != 1
  then error("container \($c) is not (exactly once) in the task definition") else . end
  | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
        .registeredAt, .registeredBy, .deregisteredAt)
  | if .enableFaultInjection == false then del(.enableFaultInjection) else . end
  | .containerDefinitions |= map(if .name == $c then .image = $image else . end)' <<<"$current")

# The model the tasks load: MLflow's (MODEL_URI, set by the CDK app with mlflowTrackingUri) or,
# without it, the bundle packaged in the image.
model_uri=$(jq -r --arg c "$ECS_CONTAINER_NAME" '.containerDefinitions[] | select(.name == $c)
  | [(.environment // [])[] | select(.name == "MODEL_URI") | .value][0] // ""' <<<"$input")

arn=$(aws ecs register-task-definition --cli-input-json "$input" --query taskDefinition.taskDefinitionArn --output text)
echo "registered: $arn"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf 'task-definition-arn=%s\nmodel-uri=%s\n' "$arn" "$model_uri" >>"$GITHUB_OUTPUT"; fi

# The deployment this update starts, followed by its id: the task-definition ARN names it too, but
# not once another update (a force-new-deployment) rolls the same revision again.
deployment_id=$(aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" --task-definition "$arn" \
  --query "service.deployments[?taskDefinition=='$arn'].id | [0]" --output text)
if [[ -z "$deployment_id" || "$deployment_id" == None ]]; then
  echo "::error::update-service started no deployment of $arn that it reported; see the service's events: aws ecs describe-services --cluster $ECS_CLUSTER --services $ECS_SERVICE"
  exit 1
fi
echo "service $ECS_SERVICE is rolling onto it (deployment $deployment_id); waiting up to $wait_minutes min"

# ECS's API is eventually consistent: describe-services may not list yet the deployment that
# update-service has just started. Until it has been listed once, its absence counts as pending
# for this many polls; after that, or once it has been listed, absence means it was rolled back or
# replaced.
readonly unlisted_polls=3
polls=0
listed=false
deadline=$((SECONDS + wait_minutes * 60))
while :; do
  deployments=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
    --query 'services[0].deployments' --output json)
  polls=$((polls + 1))
  ours=$(jq -c --arg id "$deployment_id" '[.[] | select(.id == $id)][0]' <<<"$deployments")
  primary=$(jq -r '[.[] | select(.status == "PRIMARY")][0].taskDefinition' <<<"$deployments")
  state=$(jq -r 'if . == null then "gone" else "\(.status) \(.rolloutState)" end' <<<"$ours")
  if [[ "$state" != gone ]]; then
    listed=true
  elif [[ "$listed" == false ]]; then
    if ((polls <= unlisted_polls)); then
      state="not listed yet"
    else
      echo "::error::describe-services did not list the deployment of $arn ($deployment_id) in $unlisted_polls polls: it was rolled back or replaced before it was seen; the service runs $primary"
      exit 1
    fi
  fi
  echo "deployment: $state; running $(jq -r '"\(.runningCount // 0)/\(.desiredCount // 0)"' <<<"$ours")"
  case "$state" in
    "PRIMARY COMPLETED")
      echo "the service runs $arn"
      exit 0
      ;;
    *FAILED)
      echo "::error::the deployment of $arn failed ($(jq -r '.rolloutStateReason // "no reason given"' <<<"$ours")); the service runs $primary"
      exit 1
      ;;
    gone | ACTIVE* | INACTIVE*)
      echo "::error::the deployment of $arn is no longer the service's primary one: it was rolled back or replaced; the service runs $primary"
      exit 1
      ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "::error::the deployment of $arn did not complete within $wait_minutes min (state: $state)"
    exit 1
  fi
  sleep "$poll_seconds"
done
