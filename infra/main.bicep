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

@description('production turns on geo-zone-redundant data storage and zone-redundant host storage by default; development uses locally redundant storage.')
@allowed([
  'production'
  'development'
])
param environmentType string = 'production'

@description('Data account redundancy (documents, results, records, the webhook queue). Production defaults to GZRS (zone-redundant in the region, copied asynchronously to the paired region).')
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

// The host account holds nothing that must survive a region: a
// disaster-recovery environment creates its own (new keys, the package
// deployed again), so geo-replication would be paid for and never read. It
// must survive a zone, or the app stops with it: zone-redundant whenever the
// data account is (production) or the instances are spread over zones.
@description('Host account redundancy (AzureWebJobsStorage: keys, locks, the deployment package). Defaults to ZRS in production or with zoneRedundant, else LRS.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param hostStorageSku string = ((environmentType == 'production') || zoneRedundant) ? 'Standard_ZRS' : 'Standard_LRS'

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

// No cap by default: once a daily cap is reached, ingestion stops until the
// next day, and with it every log-based alert (function failures, 5xx rate,
// webhook dead letters). Anyone who can make the app log (a stream of bad
// uploads) could hit a low cap on purpose and blind the alerts for the rest
// of the day. -1 is how the workspace expresses "no cap". Cost stays bounded
// by maximumInstanceCount, logRetentionDays and the monthlyBudget alerts; set
// a cap only as a cost ceiling, well above a normal day's volume.
@description('Log Analytics daily ingestion cap in GB; -1 (the default) means no cap. A cap also stops log-based alerts for the rest of the day once reached.')
@minValue(-1)
param logDailyCapGb int = -1

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

@description('Search with Azure AI Search (full text, vectors, hybrid). false: no search service (search then needs SEARCH_ENDPOINT set by hand; the embedded engine is for local use only).')
param enableSearch bool = true

@description('Azure AI Search tier.')
@allowed([
  'free'
  'basic'
  'standard'
  'standard2'
  'standard3'
])
param searchSku string = 'basic'

@description('Azure AI Search replicas (2 for the read SLA, 3 for read-write).')
@minValue(1)
@maxValue(12)
param searchReplicaCount int = 1

@description('Azure AI Search partitions.')
@allowed([
  1
  2
  3
  4
  6
  12
])
param searchPartitionCount int = 1

@description('Embeddings for vector and hybrid search: an Azure OpenAI account with one embedding deployment. false: text search only.')
param enableEmbeddings bool = true

@description('Embedding model (deployed under the same name).')
param embeddingModel string = 'text-embedding-3-small'

@description('Embedding model version.')
param embeddingModelVersion string = '1'

@description('Embedding dimensions the index stores (text-embedding-3 models can shorten their vectors).')
@minValue(1)
@maxValue(4096)
param embeddingDimensions int = 1536

@description('Embedding deployment capacity, in thousands of tokens per minute.')
@minValue(1)
param embeddingCapacity int = 120

@description('Disaster recovery: the name of an existing (failed-over) data account to use instead of creating one. Empty: create the account. The host account is always created.')
param existingStorageAccountName string = ''

@description('Resource group of existingStorageAccountName.')
param existingStorageResourceGroupName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var useExistingStorage = !empty(existingStorageAccountName)

// Names the app and the infrastructure share, all in the data account;
// local.settings.sample.json and infra/event-subscriptions.json use the same
// values (tests/unit/test_infra.py).
var storageNames = {
  uploadsContainer: 'uploads'
  inboxContainer: 'inbox'
  resultsContainer: 'results'
  deadLetterContainer: 'deadletters'
  documentsTable: 'documents'
  webhookSubscriptionsTable: 'webhooksubscriptions'
  webhookDeliveriesTable: 'webhookdeliveries'
  webhookQueue: 'webhook-deliveries'
  webhookPoisonQueue: 'webhook-deliveries-poison'
  searchStatusTable: 'searchstatus'
  searchReindexQueue: 'search-reindex'
  searchReindexPoisonQueue: 'search-reindex-poison'
  webingestQueue: 'webingest-frontier'
  webingestPoisonQueue: 'webingest-frontier-poison'
  webingestTable: 'webingest'
}

// In the host account, beside what the Functions host creates itself.
var deploymentContainer = 'app-package-${resourceToken}'

var names = {
  resourceGroup: 'rg-${environmentName}'
  // The data account keeps the name the single account had, so an existing
  // environment keeps its data when it is provisioned again (docs/deploy.md).
  storageAccount: useExistingStorage ? existingStorageAccountName : 'st${resourceToken}'
  hostStorageAccount: 'sthost${resourceToken}'
  // New names for both identities: the identity the app used to have (with
  // Storage Blob Data Owner on the whole account) is detached, not reused.
  hostIdentity: 'id-host-${resourceToken}'
  appIdentity: 'id-app-${resourceToken}'
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
  search: 'srch-${resourceToken}'
  embeddings: 'oai-${resourceToken}'
  keyVault: 'kv-${resourceToken}'
  apiManagement: 'apim-${resourceToken}'
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
    sku: effectiveStorageSku
    names: storageNames
    uploadRetentionDays: uploadRetentionDays
    blobRecoveryDays: blobRecoveryDays
    resultsRetentionDays: resultsRetentionDays
  }
}

// The host account: always created, also in disaster-recovery mode (its
// contents are rebuilt: keys regenerate, azd deploy uploads the package).
module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: names.hostStorageAccount
    location: location
    tags: tags
    sku: hostStorageSku
    deploymentContainerName: deploymentContainer
    blobRecoveryDays: blobRecoveryDays
  }
}

// The Functions host signs in as this one (AzureWebJobsStorage, the package).
module hostIdentity 'modules/identity.bicep' = {
  name: 'host-identity'
  scope: rg
  params: {
    name: names.hostIdentity
    location: location
    tags: tags
  }
}

// The app's code (and the webhook queue trigger) signs in as this one.
module appIdentity 'modules/identity.bicep' = {
  name: 'app-identity'
  scope: rg
  params: {
    name: names.appIdentity
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
    // The inbox's BlobCreated events come from the data account. The storage
    // events of a failed-over account stay with its original region: no
    // system topic in disaster-recovery mode (docs/deploy.md).
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
    names: storageNames
    appPrincipalId: appIdentity.outputs.principalId
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

module hostStorageRoles 'modules/host-storage-roles.bicep' = {
  name: 'host-storage-roles'
  scope: rg
  params: {
    storageAccountName: names.hostStorageAccount
    hostPrincipalId: hostIdentity.outputs.principalId
  }
  // Scoped by name, so the dependency is not inferred.
  dependsOn: [
    hostStorage
  ]
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    appPrincipalId: appIdentity.outputs.principalId
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
    appPrincipalId: appIdentity.outputs.principalId
  }
}

module search 'modules/search.bicep' = if (enableSearch) {
  name: 'search'
  scope: rg
  params: {
    name: names.search
    location: location
    tags: tags
    sku: searchSku
    replicaCount: searchReplicaCount
    partitionCount: searchPartitionCount
    appPrincipalId: appIdentity.outputs.principalId
  }
}

module embeddings 'modules/embeddings.bicep' = if (enableEmbeddings) {
  name: 'embeddings'
  scope: rg
  params: {
    name: names.embeddings
    location: location
    tags: tags
    model: embeddingModel
    modelVersion: embeddingModelVersion
    capacity: embeddingCapacity
    appPrincipalId: appIdentity.outputs.principalId
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
    hostIdentityName: names.hostIdentity
    appIdentityName: names.appIdentity
    hostStorageBlobEndpoint: 'https://${names.hostStorageAccount}.blob.${environment().suffixes.storage}/'
    hostStorageQueueEndpoint: 'https://${names.hostStorageAccount}.queue.${environment().suffixes.storage}/'
    hostStorageTableEndpoint: 'https://${names.hostStorageAccount}.table.${environment().suffixes.storage}/'
    dataStorageBlobEndpoint: 'https://${names.storageAccount}.blob.${environment().suffixes.storage}/'
    dataStorageQueueEndpoint: 'https://${names.storageAccount}.queue.${environment().suffixes.storage}/'
    dataStorageTableEndpoint: 'https://${names.storageAccount}.table.${environment().suffixes.storage}/'
    storageNames: storageNames
    deploymentContainerName: deploymentContainer
    appInsightsName: names.appInsights
    topicName: names.topic
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpAlwaysReadyInstances: httpAlwaysReadyInstances
    processorAlwaysReadyInstances: processorAlwaysReadyInstances
    zoneRedundant: zoneRedundant
    languageEndpoint: enableLanguageEnrichment ? language.outputs.endpoint : ''
    summaryEndpoint: summaryEndpoint
    summaryModel: summaryModel
    searchEndpoint: enableSearch ? search.outputs.endpoint : ''
    embeddingsEndpoint: enableEmbeddings ? embeddings.outputs.endpoint : ''
    embeddingsModel: enableEmbeddings ? embeddings.outputs.deployment : ''
    embeddingsDimensions: embeddingDimensions
    secretsKeySecretUri: keyVault.outputs.secretsKeySecretUri
    logicAppUrlSecretUri: keyVault.outputs.logicAppUrlSecretUri
    authIssuer: authIssuer
    authAudience: authAudience
    authLeewaySeconds: authLeewaySeconds
    authOwnerScope: authOwnerScope
    resultsRetentionDays: resultsRetentionDays
    documentsMaxPerOwner: documentsMaxPerOwner
    inboxDefaultOwner: effectiveInboxOwner
  }
  // The host starts as soon as the site exists: grant both identities their
  // storage access first, or the first start fails and backs off.
  dependsOn: [
    hostIdentity
    appIdentity
    hostStorageRoles
    storageRoles
    roles
    workflow
    language
    search
    embeddings
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
// The data account (the blob drop, dead letters); the host account is named apart.
output AZURE_STORAGE_ACCOUNT_NAME string = names.storageAccount
output AZURE_STORAGE_ACCOUNT_ID string = resourceId(subscription().subscriptionId, storageResourceGroupName, 'Microsoft.Storage/storageAccounts', names.storageAccount)
output AZURE_HOST_STORAGE_ACCOUNT_NAME string = names.hostStorageAccount
output AZURE_STORAGE_INBOX_CONTAINER string = storageNames.inboxContainer
output AZURE_STORAGE_DEADLETTER_CONTAINER string = storageNames.deadLetterContainer
output EVENTGRID_TOPIC_NAME string = names.topic
output EVENTGRID_TOPIC_ENDPOINT string = events.outputs.topicEndpoint
output EVENTGRID_SYSTEM_TOPIC_NAME string = useExistingStorage ? '' : names.systemTopic
output LOGIC_APP_NAME string = names.logicApp
output LANGUAGE_ENDPOINT string = enableLanguageEnrichment ? language.outputs.endpoint : ''
output SEARCH_ENDPOINT string = enableSearch ? search.outputs.endpoint : ''
output EMBEDDINGS_ENDPOINT string = enableEmbeddings ? embeddings.outputs.endpoint : ''

// ---------------------------------------------------------------------------
// A second region, off by default (docs/operations.md): with secondaryLocation
// set, a passive copy of the app in that region (its own resource group,
// identity, topic, Logic App and monitoring; the same storage account) and
// Azure Front Door Standard in front of both, failing over on the apps'
// readiness probes. Storage is then geo-redundant whatever storageSku says.

@description('Second region for an active-passive pair behind Azure Front Door; use the primary region\'s paired region (where GZRS replicates). Empty: one region, no Front Door.')
param secondaryLocation string = ''

@description('Seconds between Front Door readiness probes from each edge location to each region\'s app.')
@minValue(5)
@maxValue(255)
param frontDoorProbeIntervalSeconds int = 60

var multiRegion = !empty(secondaryLocation)
var geoRedundantSkus = [
  'Standard_GZRS'
  'Standard_RAGZRS'
]
// A pair needs the data in both regions: RA-GZRS unless a geo-zone SKU was chosen.
var pairStorageSku = contains(geoRedundantSkus, storageSku) ? storageSku : 'Standard_RAGZRS'
var effectiveStorageSku = multiRegion ? pairStorageSku : storageSku
var secondaryToken = toLower(uniqueString(subscription().id, environmentName, secondaryLocation))
var secondaryNames = {
  resourceGroup: 'rg-${environmentName}-secondary'
  hostStorageAccount: 'sthost${secondaryToken}'
  hostIdentity: 'id-host-${secondaryToken}'
  appIdentity: 'id-app-${secondaryToken}'
  plan: 'plan-${secondaryToken}'
  functionApp: 'func-${secondaryToken}'
  topic: 'evgt-${secondaryToken}'
  systemTopic: 'evgst-${secondaryToken}'
  logAnalytics: 'log-${secondaryToken}'
  appInsights: 'appi-${secondaryToken}'
  actionGroup: 'ag-${secondaryToken}'
  logicApp: 'logic-${secondaryToken}'
  budget: 'budget-${secondaryToken}'
  keyVault: 'kv-${secondaryToken}'
  frontDoor: 'afd-${resourceToken}'
  frontDoorEndpoint: 'docflow-${resourceToken}'
}

resource secondaryRg 'Microsoft.Resources/resourceGroups@2024-03-01' = if (multiRegion) {
  name: secondaryNames.resourceGroup
  location: multiRegion ? secondaryLocation : location
  tags: tags
}

module secondary 'modules/region.bicep' = if (multiRegion) {
  name: 'secondary-region'
  scope: secondaryRg
  params: {
    location: multiRegion ? secondaryLocation : location
    tags: tags
    names: secondaryNames
    storageNames: storageNames
    storageAccountName: names.storageAccount
    storageResourceGroupName: storageResourceGroupName
    hostStorageSku: hostStorageSku
    blobRecoveryDays: blobRecoveryDays
    alertEmail: alertEmail
    logRetentionDays: logRetentionDays
    logDailyCapGb: logDailyCapGb
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    languageEndpoint: enableLanguageEnrichment ? language.outputs.endpoint : ''
    languageAccountName: names.language
    aiResourceGroupName: names.resourceGroup
    summaryEndpoint: summaryEndpoint
    summaryModel: summaryModel
    searchEndpoint: enableSearch ? search.outputs.endpoint : ''
    searchServiceName: names.search
    embeddingsEndpoint: enableEmbeddings ? embeddings.outputs.endpoint : ''
    embeddingsAccountName: names.embeddings
    embeddingsModel: enableEmbeddings ? embeddings.outputs.deployment : ''
    embeddingsDimensions: embeddingDimensions
    secretsKey: secretsKey
    keyVaultSoftDeleteDays: keyVaultSoftDeleteDays
    authIssuer: authIssuer
    authAudience: authAudience
    authLeewaySeconds: authLeewaySeconds
    authOwnerScope: authOwnerScope
    resultsRetentionDays: resultsRetentionDays
    documentsMaxPerOwner: documentsMaxPerOwner
    inboxDefaultOwner: effectiveInboxOwner
  }
  dependsOn: [
    storage
  ]
}

// In the secondary's resource group: editable while the primary region is down.
module frontDoor 'modules/frontdoor.bicep' = if (multiRegion) {
  name: 'front-door'
  scope: secondaryRg
  params: {
    tags: tags
    profileName: secondaryNames.frontDoor
    endpointName: secondaryNames.frontDoorEndpoint
    primaryHostName: replace(hosting.outputs.url, 'https://', '')
    secondaryHostName: multiRegion ? replace(secondary.outputs.url, 'https://', '') : ''
    probeIntervalSeconds: frontDoorProbeIntervalSeconds
    actionGroupId: monitoring.outputs.actionGroupId
  }
}

output AZURE_FRONT_DOOR_URL string = multiRegion ? 'https://${frontDoor.outputs.endpointHostName}' : ''
output AZURE_FRONT_DOOR_PROFILE_NAME string = multiRegion ? secondaryNames.frontDoor : ''
output AZURE_SECONDARY_LOCATION string = secondaryLocation
output AZURE_SECONDARY_RESOURCE_GROUP string = multiRegion ? secondaryNames.resourceGroup : ''
output AZURE_SECONDARY_FUNCTION_APP_NAME string = multiRegion ? secondary.outputs.functionAppName : ''
output AZURE_SECONDARY_FUNCTION_APP_URL string = multiRegion ? secondary.outputs.url : ''
output AZURE_SECONDARY_EVENTGRID_TOPIC_NAME string = multiRegion ? secondaryNames.topic : ''

// ---------------------------------------------------------------------------
// Identity and tenancy (docs/deploy.md, "Sign-in and app roles"): bearer
// tokens from an Entra ID app registration (the preprovision hook creates it
// and sets AUTH_AUDIENCE), the webhook secrets' key ring in Key Vault (the
// hook generates SECRETS_KEY once), retention and quotas, and an optional API
// Management gateway in front of the app.

@secure()
@minLength(1)
@description('SECRETS_KEY key ring (comma-separated <key id>:<base64 of 32 bytes>, the first encrypts). The preprovision hook generates it once; never regenerate it (the stored webhook secrets become unreadable): rotate by prepending a key (docs/deploy.md).')
param secretsKey string

@description('Days a deleted Key Vault or secret stays recoverable; purge protection holds the vault name that long.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteDays int = 90

@description('Entra ID tenant that issues the tokens (AUTH_ISSUER https://login.microsoftonline.com/<tenant>/v2.0).')
param authTenantId string = tenant().tenantId

@minLength(1)
@description('AUTH_AUDIENCE: the application (client) id of the API app registration, the aud of its v2.0 access tokens. The preprovision hook sets it (azd env AUTH_AUDIENCE).')
param authAudience string

@description('Clock skew allowed on exp and nbf, in seconds.')
@minValue(1)
@maxValue(300)
param authLeewaySeconds int = 60

@description('principal: every user or application its own owner; tenant: all principals of a tenant share one owner.')
@allowed([
  'principal'
  'tenant'
])
param authOwnerScope string = 'principal'

@description('Days before results and document records are deleted (the app\'s reconciler and a lifecycle rule on the results container); 0 keeps them. Raw uploads are then kept no longer than this either.')
@minValue(0)
@maxValue(3650)
param resultsRetentionDays int = 90

@description('Stored documents per owner before uploads are refused; 0: no cap.')
@minValue(0)
param documentsMaxPerOwner int = 10000

@description('Owner (<tenant id>:<object id>) of inbox files outside an <owner>/ folder; empty: the deploying principal (principalId), or "local" without one.')
param inboxDefaultOwner string = ''

var effectiveInboxOwner = !empty(inboxDefaultOwner) ? inboxDefaultOwner : (!empty(principalId) ? '${tenant().tenantId}:${principalId}' : 'local')

@description('API Management in front of the app (validate-jwt, rate-limit-by-key per caller). Off by default.')
param apiManagement bool = false

// rate-limit-by-key is not available on the Consumption tier (the policy
// reference lists Developer, Basic, Basic v2, Standard, Standard v2, Premium).
@description('API Management tier; Consumption lacks rate-limit-by-key, so the smallest tier that has it is the default.')
@allowed([
  'BasicV2'
  'StandardV2'
  'Developer'
  'Basic'
  'Standard'
  'Premium'
])
param apiManagementSku string = 'BasicV2'

@description('Calls each caller (token oid, else sub) may make per apiRateLimitPeriodSeconds through API Management.')
@minValue(1)
param apiRateLimitCalls int = 120

@description('Rate-limit window in seconds (at most 300).')
@minValue(1)
@maxValue(300)
param apiRateLimitPeriodSeconds int = 60

var authIssuer = '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
    appPrincipalId: appIdentity.outputs.principalId
    secretsKey: secretsKey
    logicAppName: workflow.outputs.name
    softDeleteRetentionDays: keyVaultSoftDeleteDays
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

// With a second region the gateway calls Front Door, which picks the live app.
module gateway 'modules/apim.bicep' = if (apiManagement) {
  name: 'api-management'
  scope: rg
  params: {
    name: names.apiManagement
    location: location
    tags: tags
    sku: apiManagementSku
    publisherEmail: alertEmail
    functionAppName: names.functionApp
    backendUrl: multiRegion ? 'https://${frontDoor.outputs.endpointHostName}/api' : '${hosting.outputs.url}/api'
    issuer: authIssuer
    audience: authAudience
    tenantId: authTenantId
    rateLimitCalls: apiRateLimitCalls
    rateLimitPeriodSeconds: apiRateLimitPeriodSeconds
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

output AZURE_KEY_VAULT_NAME string = names.keyVault
output AUTH_ISSUER string = authIssuer
output API_MANAGEMENT_URL string = apiManagement ? gateway.outputs.apiUrl : ''
