// Data-plane roles on the data account, least privilege per identity: every
// assignment is scoped to one container, table or queue, never the account.
// Deployed in the data account's resource group (which differs from the
// app's in disaster-recovery mode, see main.bicep). The host identity has no
// role here; the app identity has none on the host account.
//
// The app never creates a container, table or queue (STORAGE_PROVISIONED=true:
// storage.bicep creates them all), so none of these roles needs to allow it;
// the built-in data roles that write still let their holder delete the one
// container, table or queue they are scoped to (soft delete covers
// containers; see docs/deploy.md for what remains).

param storageAccountName string

@description('Container, table and queue names shared with the app (main.bicep storageNames).')
param names object

@description('Principal id of the app\'s user-assigned identity (the one that reads documents).')
param appPrincipalId string

@description('Principal id of the custom topic\'s system-assigned identity.')
param topicPrincipalId string

@description('Principal id of the storage system topic\'s identity; empty when there is none.')
param systemTopicPrincipalId string

@description('Object id of the person running azd; empty: no grant.')
param developerPrincipalId string

param developerPrincipalType string

var roleIds = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource uploadsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: names.uploadsContainer
}

resource inboxContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: names.inboxContainer
}

resource resultsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: names.resultsContainer
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: names.deadLetterContainer
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource webhookQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.webhookQueue
}

resource webhookPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.webhookPoisonQueue
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource documentsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: names.documentsTable
}

resource webhookSubscriptionsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: names.webhookSubscriptionsTable
}

resource webhookDeliveriesTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: names.webhookDeliveriesTable
}

resource searchStatusTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: names.searchStatusTable
}

resource searchReindexQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.searchReindexQueue
}

resource searchReindexPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.searchReindexPoisonQueue
}

resource webingestQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.webingestQueue
}

resource webingestPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: names.webingestPoisonQueue
}

resource webingestTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: names.webingestTable
}

// --- the app identity --------------------------------------------------------

// App, uploads container: the upload route writes each accepted document and
// the processor reads it back.
resource appUploadsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(uploadsContainer.id, appPrincipalId, roleIds.storageBlobDataContributor)
  scope: uploadsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, inbox container, read only: the processor reads dropped blobs (size
// first, then a bounded download); it never writes or deletes them.
resource appInboxReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(inboxContainer.id, appPrincipalId, roleIds.storageBlobDataReader)
  scope: inboxContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, results container: the processor writes each result, the result route
// and the content cache read them.
resource appResultsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resultsContainer.id, appPrincipalId, roleIds.storageBlobDataContributor)
  scope: resultsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, documents table: status records, blob claims and the content cache
// (insert, read, conditional update, query).
resource appDocumentsTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(documentsTable.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: documentsTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, webhook subscriptions table: registrations, their secrets and health.
resource appWebhookSubscriptionsTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webhookSubscriptionsTable.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: webhookSubscriptionsTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, webhook deliveries table: deliveries, attempts and dead letters.
resource appWebhookDeliveriesTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webhookDeliveriesTable.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: webhookDeliveriesTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, webhook queue: the fan-out and the worker enqueue jobs (retries with a
// visibility delay), and the Functions host's queue trigger, which signs in as
// this identity (DATA_STORAGE__clientId), reads, hides, renews, releases and
// deletes them. Contributor rather than Reader + Message Processor (the pair
// Microsoft lists for a trigger): releasing or renewing a message is Update
// Message (messages/write), which neither of those roles includes.
resource appWebhookQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webhookQueue.id, appPrincipalId, roleIds.storageQueueDataContributor)
  scope: webhookQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, the webhook poison queue, send only: the Functions host moves a job
// there after maxDequeueCount failures. Nothing reads it with this identity
// (alerts watch the logs; dead letters live in the deliveries table).
resource appWebhookPoisonSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webhookPoisonQueue.id, appPrincipalId, roleIds.storageQueueDataMessageSender)
  scope: webhookPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataMessageSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, search status table: each document's index state and the reindex jobs.
resource appSearchStatusTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(searchStatusTable.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: searchStatusTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, reindex queue: the reindex route enqueues steps and its queue trigger
// (DATA_STORAGE) works them; Contributor for the same reason as the webhook queue.
resource appSearchReindexQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(searchReindexQueue.id, appPrincipalId, roleIds.storageQueueDataContributor)
  scope: searchReindexQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, the reindex poison queue, send only (the host moves failed steps there).
resource appSearchReindexPoisonSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(searchReindexPoisonQueue.id, appPrincipalId, roleIds.storageQueueDataMessageSender)
  scope: searchReindexPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataMessageSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, web ingestion table: crawls, batches, their URL rows (the atomic seen
// set), page slots, robots.txt cache and per-host turns.
resource appWebingestTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webingestTable.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: webingestTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, frontier queue: the crawl route and the fetcher enqueue URLs (with a
// visibility delay for a host's next turn) and its queue trigger (DATA_STORAGE)
// works them; Contributor for the same reason as the webhook queue.
resource appWebingestQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webingestQueue.id, appPrincipalId, roleIds.storageQueueDataContributor)
  scope: webingestQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App, the frontier poison queue, send only (the host moves poisoned URLs there).
resource appWebingestPoisonSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webingestPoisonQueue.id, appPrincipalId, roleIds.storageQueueDataMessageSender)
  scope: webingestPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataMessageSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// --- Event Grid and the developer -------------------------------------------

// Custom topic identity, dead-letter container only: Event Grid writes the
// events it could not deliver there (deadLetterWithResourceIdentity).
resource topicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topicPrincipalId, roleIds.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: topicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage system topic identity, dead-letter container only: same reason, for
// undeliverable BlobCreated events.
resource systemTopicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(systemTopicPrincipalId)) {
  name: guid(deadLetterContainer.id, systemTopicPrincipalId, roleIds.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploying developer, inbox container only: lets them try the blob drop
// (`az storage blob upload --auth-mode login`) without any other data access.
resource developerInboxWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(inboxContainer.id, developerPrincipalId, roleIds.storageBlobDataContributor)
  scope: inboxContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}
