// docflow on Azure: `azd up` provisions this file, deploys the code, then the
// postdeploy hook (infra/hooks/) creates the Event Grid subscriptions from
// infra/subscriptions.bicep, because a subscription to a function can only be
// created once the function exists.
//
// Every resource is declared in a local module so the offline checks
// (pycep-parser, checkov: see tests/unit/test_infra.py) see all of them.
// pycep-parser 0.5.1 (the version checkov pins) cannot parse lambdas passed to
// map()/toObject()/reduce(), items(), deployer(), spread or multi-line ternaries;
// the templates use for-expressions, concat() and union() instead.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names every resource and tags it azd-env-name.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('production turns on geo-zone-redundant storage by default; development uses locally redundant storage.')
@allowed([
  'production'
  'development'
])
param environmentType string = 'production'

@description('Storage redundancy. Production defaults to GZRS (zone-redundant in the region, copied asynchronously to the paired region).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
// Parenthesised: pycep-parser reads `a == b ? c : d` as `a == (b ? c : d)`.
param storageSku string = (environmentType == 'production') ? 'Standard_GZRS' : 'Standard_LRS'

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Scale-out ceiling of each scale group (the HTTP functions together, each event-driven function on its own); Flex scales from zero up to it. It also caps the cost of a burst.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@description('Always-ready instances for the HTTP functions (0: scale from zero, with cold starts).')
@minValue(0)
@maxValue(20)
param httpAlwaysReadyInstances int = 0

@description('Always-ready instances for process_document (0: scale from zero).')
@minValue(0)
@maxValue(20)
param processorAlwaysReadyInstances int = 0

@description('Spread instances across availability zones. The platform then keeps at least two always-ready instances per scale group, billed as always-ready: see docs/deploy.md before turning it on.')
param zoneRedundant bool = false

@description('Days before raw uploads (uploads and inbox containers) are deleted.')
@minValue(1)
@maxValue(3650)
param uploadRetentionDays int = 30

@description('Days that deleted or overwritten blobs stay recoverable (soft delete and previous versions).')
@minValue(2)
@maxValue(365)
param blobRecoveryDays int = 7

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Log Analytics daily ingestion cap in GB; -1 removes the cap.')
@minValue(-1)
param logDailyCapGb int = 1

@description('Email address that receives the alerts.')
param alertEmail string

@description('Monthly cost budget for the resource group in the billing currency; 0 creates no budget.')
@minValue(0)
param monthlyBudget int = 0

@description('First day of the budget period (the budget start date cannot be in a past month when the budget is created).')
param budgetStartDate string = utcNow('yyyy-MM-01')

@description('Object id of the person running azd (set by azd); gets blob write access to the inbox container only, to try the blob drop. Empty: none.')
param principalId string = ''

@description('Type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Language enrichment with Azure AI Language (people, organisations, places, PII, language, key phrases). false: offline providers only, and no Language resource.')
param enableLanguageEnrichment bool = true

@description('Azure AI Language pricing tier: S (pay per 1,000 text records) or F0 (free tier, one per subscription).')
@allowed([
  'S'
  'F0'
])
param languageSku string = 'S'

@description('Abstractive summaries: endpoint of an Azure OpenAI resource (https://NAME.openai.azure.com) or an OpenAI-compatible /v1 base URL. Empty: extractive summaries. The app identity needs Cognitive Services OpenAI User on that resource.')
param summaryEndpoint string = ''

@description('Chat deployment (or model) name for abstractive summaries; used when summaryEndpoint is set.')
param summaryModel string = ''

@description('Disaster recovery: the name of an existing (failed-over) storage account to use instead of creating one. Empty: create the account.')
param existingStorageAccountName string = ''

@description('Resource group of existingStorageAccountName.')
param existingStorageResourceGroupName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var useExistingStorage = !empty(existingStorageAccountName)

// Names the app and the infrastructure share; local.settings.sample.json and
// infra/event-subscriptions.json use the same values (tests/unit/test_infra.py).
var storageNames = {
  uploadsContainer: 'uploads'
  inboxContainer: 'inbox'
  resultsContainer: 'results'
  deadLetterContainer: 'deadletters'
  deploymentContainer: 'app-package-${resourceToken}'
  documentsTable: 'documents'
  webhookSubscriptionsTable: 'webhooksubscriptions'
  webhookDeliveriesTable: 'webhookdeliveries'
  webhookQueue: 'webhook-deliveries'
  webhookPoisonQueue: 'webhook-deliveries-poison'
  webingestQueue: 'webingest-frontier'
  webingestPoisonQueue: 'webingest-frontier-poison'
  webingestTable: 'webingest'
}

var names = {
  resourceGroup: 'rg-${environmentName}'
  storageAccount: useExistingStorage ? existingStorageAccountName : 'st${resourceToken}'
  identity: 'id-func-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  topic: 'evgt-${resourceToken}'
  systemTopic: 'evgst-${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  actionGroup: 'ag-${resourceToken}'
  logicApp: 'logic-${resourceToken}'
  budget: 'budget-${resourceToken}'
  language: 'lang-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

// In disaster recovery the failed-over account lives in its original group.
var storageResourceGroupName = (useExistingStorage && !empty(existingStorageResourceGroupName)) ? existingStorageResourceGroupName : names.resourceGroup

module storage 'modules/storage.bicep' = if (!useExistingStorage) {
  name: 'storage'
  scope: rg
  params: {
    name: names.storageAccount
    location: location
    tags: tags
    sku: storageSku
    names: storageNames
    uploadRetentionDays: uploadRetentionDays
    blobRecoveryDays: blobRecoveryDays
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    actionGroupName: names.actionGroup
    budgetName: names.budget
    alertEmail: alertEmail
    logRetentionDays: logRetentionDays
    logDailyCapGb: logDailyCapGb
    monthlyBudget: monthlyBudget
    budgetStartDate: budgetStartDate
  }
}

module events 'modules/events.bicep' = {
  name: 'events'
  scope: rg
  params: {
    location: location
    tags: tags
    topicName: names.topic
    systemTopicName: names.systemTopic
    // The storage events of a failed-over account stay with its original
    // region: no system topic in disaster-recovery mode (docs/deploy.md).
    createSystemTopic: !useExistingStorage
    storageAccountId: useExistingStorage ? '' : storage.outputs.id
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module workflow 'modules/workflow.bicep' = {
  name: 'workflow'
  scope: rg
  params: {
    name: names.logicApp
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module storageRoles 'modules/storage-roles.bicep' = {
  // Unique: in disaster-recovery mode it lands in the primary's resource group.
  name: 'storage-roles-${resourceToken}'
  scope: resourceGroup(storageResourceGroupName)
  params: {
    storageAccountName: names.storageAccount
    deadLetterContainerName: storageNames.deadLetterContainer
    inboxContainerName: storageNames.inboxContainer
    appPrincipalId: identity.outputs.principalId
    topicPrincipalId: events.outputs.topicPrincipalId
    systemTopicPrincipalId: events.outputs.systemTopicPrincipalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
  // Scoped by name, so the dependencies are not inferred.
  dependsOn: [
    rg
    storage
  ]
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    topicName: names.topic
    appInsightsName: names.appInsights
  }
  dependsOn: [
    events
    monitoring
  ]
}

module language 'modules/language.bicep' = if (enableLanguageEnrichment) {
  name: 'language'
  scope: rg
  params: {
    name: names.language
    location: location
    tags: tags
    sku: languageSku
    appPrincipalId: identity.outputs.principalId
  }
}

module hosting 'modules/hosting.bicep' = {
  name: 'hosting'
  scope: rg
  params: {
    location: location
    tags: tags
    planName: names.plan
    appName: names.functionApp
    identityName: names.identity
    storageBlobEndpoint: 'https://${names.storageAccount}.blob.${environment().suffixes.storage}/'
    storageQueueEndpoint: 'https://${names.storageAccount}.queue.${environment().suffixes.storage}/'
    storageTableEndpoint: 'https://${names.storageAccount}.table.${environment().suffixes.storage}/'
    storageNames: storageNames
    appInsightsName: names.appInsights
    topicName: names.topic
    logicAppName: names.logicApp
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpAlwaysReadyInstances: httpAlwaysReadyInstances
    processorAlwaysReadyInstances: processorAlwaysReadyInstances
    zoneRedundant: zoneRedundant
    languageEndpoint: enableLanguageEnrichment ? language.outputs.endpoint : ''
    summaryEndpoint: summaryEndpoint
    summaryModel: summaryModel
  }
  // The host starts as soon as the site exists: grant its identity storage
  // access first, or the first start fails and backs off.
  dependsOn: [
    identity
    storageRoles
    roles
    workflow
    language
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: resourceToken
    actionGroupId: monitoring.outputs.actionGroupId
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    topicId: events.outputs.topicId
    systemTopicId: events.outputs.systemTopicId
    functionAppName: names.functionApp
    webhookPoisonQueue: storageNames.webhookPoisonQueue
  }
  dependsOn: [
    hosting
  ]
}

// azd stores these in the environment (.azure/<env>/.env); the postdeploy hook
// and docs/deploy.md read them. No secret is output: the Logic App callback URL
// goes straight into the app settings.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = names.functionApp
output AZURE_FUNCTION_APP_URL string = hosting.outputs.url
output AZURE_STORAGE_ACCOUNT_NAME string = names.storageAccount
output AZURE_STORAGE_ACCOUNT_ID string = resourceId(subscription().subscriptionId, storageResourceGroupName, 'Microsoft.Storage/storageAccounts', names.storageAccount)
output AZURE_STORAGE_INBOX_CONTAINER string = storageNames.inboxContainer
output AZURE_STORAGE_DEADLETTER_CONTAINER string = storageNames.deadLetterContainer
output EVENTGRID_TOPIC_NAME string = names.topic
output EVENTGRID_TOPIC_ENDPOINT string = events.outputs.topicEndpoint
output EVENTGRID_SYSTEM_TOPIC_NAME string = useExistingStorage ? '' : names.systemTopic
output LOGIC_APP_NAME string = names.logicApp
output LANGUAGE_ENDPOINT string = enableLanguageEnrichment ? language.outputs.endpoint : ''
