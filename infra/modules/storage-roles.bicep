// Data-plane roles on the storage account, least privilege per identity.
// Deployed in the storage account's resource group (which differs from the
// app's in disaster-recovery mode, see main.bicep).

param storageAccountName string
param deadLetterContainerName string
param inboxContainerName string

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

@description('Principal id of the custom topic\'s system-assigned identity.')
param topicPrincipalId string

@description('Principal id of the storage system topic\'s identity; empty when there is none.')
param systemTopicPrincipalId string

@description('Object id of the person running azd; empty: no grant.')
param developerPrincipalId string

param developerPrincipalType string

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource inboxContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: inboxContainerName
}

// App identity, blobs, whole account: the Functions host keeps its keys,
// timer locks and coordination blobs in AzureWebJobsStorage and creates its
// containers (Microsoft documents Storage Blob Data Owner as the host's
// minimum for an identity-based AzureWebJobsStorage), Flex Consumption reads
// the deployment package with this identity, and the app reads and writes
// uploads, inbox and results. Owner covers all three; no narrower role does.
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roleIds.storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App identity, queues, whole account: the webhook queue trigger reads,
// deletes and poisons messages, the sender enqueues retries with a
// visibility delay, and the adapter creates queues on first use.
resource appQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roleIds.storageQueueDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App identity, tables, whole account: document records and webhook
// subscriptions/deliveries, tables created on first use, and the host's
// diagnostic events (written to AzureWebJobsStorage tables).
resource appTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

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
