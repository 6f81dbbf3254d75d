#!/bin/sh
# azd runs this after every `azd deploy` / `azd up` (azure.yaml hooks.postdeploy).
# It deploys infra/subscriptions.bicep: the Event Grid subscriptions from
# infra/event-subscriptions.json, to the functions the deployed code contains.
# Event Grid validates an AzureFunction endpoint when a subscription is created,
# so this cannot run during provisioning, before the code exists.
# Needs the Azure CLI, signed in (`az login`) to the same tenant as azd.
set -eu

: "${AZURE_RESOURCE_GROUP:?run through azd (azd up or azd deploy)}"
: "${AZURE_FUNCTION_APP_NAME:?missing: run azd provision first}"
: "${EVENTGRID_TOPIC_NAME:?missing: run azd provision first}"
: "${AZURE_STORAGE_ACCOUNT_ID:?missing: run azd provision first}"

here=$(cd "$(dirname "$0")" && pwd)
template="$here/../subscriptions.bicep"

# Flex Consumption indexes the functions after the package upload returns:
# wait until process_document (the function every deployment has) is listed.
attempt=0
while :; do
  functions=$(az functionapp function list \
    --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "[].name" --output tsv 2>/dev/null | sed 's#.*/##' | tr -d '\r' || true)
  case " $(echo $functions) " in
    *" process_document "*) break ;;
  esac
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "postdeploy: process_document is not listed after 5 minutes; check 'azd deploy' output and the app's logs." >&2
    exit 1
  fi
  sleep 10
done

json="["
for name in $functions; do
  json="$json\"$name\","
done
json="${json%,}]"
echo "postdeploy: deployed functions: $json"

# Retried: new role assignments (dead-letter writers) take minutes to apply.
attempt=0
until az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name "eventgrid-subscriptions" \
  --template-file "$template" \
  --parameters \
    functionAppName="$AZURE_FUNCTION_APP_NAME" \
    topicName="$EVENTGRID_TOPIC_NAME" \
    systemTopicName="${EVENTGRID_SYSTEM_TOPIC_NAME:-}" \
    storageAccountId="$AZURE_STORAGE_ACCOUNT_ID" \
    deadLetterContainerName="${AZURE_STORAGE_DEADLETTER_CONTAINER:-deadletters}" \
    deployedFunctions="$json" \
  --output none; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 3 ]; then
    echo "postdeploy: creating the Event Grid subscriptions failed 3 times." >&2
    exit 1
  fi
  echo "postdeploy: retrying in 60 s ($attempt/3)" >&2
  sleep 60
done
echo "postdeploy: Event Grid subscriptions are in place."

# The passive region (infra/main.bicep secondaryLocation, docs/operations.md):
# azd deploys to the primary's app only, so the same package goes to the
# secondary's app here, then this script runs again with that region's names
# to create its subscriptions (its topic to its functions).
if [ -n "${AZURE_SECONDARY_FUNCTION_APP_NAME:-}" ] && [ -z "${DOCFLOW_POSTDEPLOY_SECONDARY:-}" ]; then
  package="$here/../../.azure/functions-secondary.zip"
  azd package functions --output-path "$package"
  az functionapp deployment source config-zip \
    --resource-group "$AZURE_SECONDARY_RESOURCE_GROUP" --name "$AZURE_SECONDARY_FUNCTION_APP_NAME" \
    --src "$package" --build-remote true --output none
  DOCFLOW_POSTDEPLOY_SECONDARY=1 \
    AZURE_RESOURCE_GROUP="$AZURE_SECONDARY_RESOURCE_GROUP" \
    AZURE_FUNCTION_APP_NAME="$AZURE_SECONDARY_FUNCTION_APP_NAME" \
    EVENTGRID_TOPIC_NAME="$AZURE_SECONDARY_EVENTGRID_TOPIC_NAME" \
    EVENTGRID_SYSTEM_TOPIC_NAME="" \
    sh "$here/postdeploy.sh"
fi
