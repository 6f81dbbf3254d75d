# azd runs this after every `azd deploy` / `azd up` on Windows (azure.yaml
# hooks.postdeploy); postdeploy.sh is the same for macOS and Linux. It deploys
# infra/subscriptions.bicep: the Event Grid subscriptions from
# infra/event-subscriptions.json, to the functions the deployed code contains.
# Needs the Azure CLI, signed in (`az login`) to the same tenant as azd.
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'EVENTGRID_TOPIC_NAME', 'AZURE_STORAGE_ACCOUNT_ID') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        throw "postdeploy: $name is missing: run through azd (azd up or azd deploy)"
    }
}
$template = Join-Path $PSScriptRoot '..' 'subscriptions.bicep'
$deadLetters = if ($env:AZURE_STORAGE_DEADLETTER_CONTAINER) { $env:AZURE_STORAGE_DEADLETTER_CONTAINER } else { 'deadletters' }

# Flex Consumption indexes the functions after the package upload returns.
$functions = @()
for ($attempt = 1; $attempt -le 30; $attempt++) {
    $listed = az functionapp function list --resource-group $env:AZURE_RESOURCE_GROUP `
        --name $env:AZURE_FUNCTION_APP_NAME --query '[].name' --output tsv 2>$null
    $functions = @($listed | ForEach-Object { ($_ -split '/')[-1].Trim() } | Where-Object { $_ })
    if ($functions -contains 'process_document') { break }
    if ($attempt -eq 30) { throw 'postdeploy: process_document is not listed after 5 minutes.' }
    Start-Sleep -Seconds 10
}
$json = ConvertTo-Json -InputObject $functions -Compress
Write-Host "postdeploy: deployed functions: $json"

# Retried: new role assignments (dead-letter writers) take minutes to apply.
for ($attempt = 1; $attempt -le 3; $attempt++) {
    az deployment group create --resource-group $env:AZURE_RESOURCE_GROUP `
        --name 'eventgrid-subscriptions' --template-file $template `
        --parameters functionAppName=$env:AZURE_FUNCTION_APP_NAME `
            topicName=$env:EVENTGRID_TOPIC_NAME `
            systemTopicName="$env:EVENTGRID_SYSTEM_TOPIC_NAME" `
            storageAccountId=$env:AZURE_STORAGE_ACCOUNT_ID `
            deadLetterContainerName=$deadLetters `
            deployedFunctions=$json `
        --output none
    if ($LASTEXITCODE -eq 0) {
        Write-Host 'postdeploy: Event Grid subscriptions are in place.'
        break
    }
    if ($attempt -eq 3) { throw 'postdeploy: creating the Event Grid subscriptions failed 3 times.' }
    Write-Warning "postdeploy: retrying in 60 s ($attempt/3)"
    Start-Sleep -Seconds 60
}

# The passive region (infra/main.bicep secondaryLocation, docs/operations.md):
# azd deploys to the primary's app only, so the same package goes to the
# secondary's app here, then this script runs again with that region's names
# to create its subscriptions (its topic to its functions).
if ($env:AZURE_SECONDARY_FUNCTION_APP_NAME -and -not $env:DOCFLOW_POSTDEPLOY_SECONDARY) {
    $package = Join-Path $PSScriptRoot '..' '..' '.azure' 'functions-secondary.zip'
    azd package functions --output-path $package
    if ($LASTEXITCODE -ne 0) { throw 'postdeploy: azd package failed.' }
    az functionapp deployment source config-zip --resource-group $env:AZURE_SECONDARY_RESOURCE_GROUP `
        --name $env:AZURE_SECONDARY_FUNCTION_APP_NAME --src $package --build-remote true --output none
    if ($LASTEXITCODE -ne 0) { throw 'postdeploy: deploying the secondary app failed.' }
    $env:DOCFLOW_POSTDEPLOY_SECONDARY = '1'
    $env:AZURE_RESOURCE_GROUP = $env:AZURE_SECONDARY_RESOURCE_GROUP
    $env:AZURE_FUNCTION_APP_NAME = $env:AZURE_SECONDARY_FUNCTION_APP_NAME
    $env:EVENTGRID_TOPIC_NAME = $env:AZURE_SECONDARY_EVENTGRID_TOPIC_NAME
    $env:EVENTGRID_SYSTEM_TOPIC_NAME = ''
    & (Join-Path $PSScriptRoot 'postdeploy.ps1')
}
