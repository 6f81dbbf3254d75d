// Event Grid: the app's custom topic (document.uploaded and the completion
// events, CloudEvents 1.0, Entra ID only) and the system topic that carries the
// data account's BlobCreated events (blob drop into the inbox container).
// Subscriptions are created after the code is deployed: infra/subscriptions.bicep.

param location string
param tags object
param topicName string
param systemTopicName string

@description('False in disaster-recovery mode, where the storage account is reused.')
param createSystemTopic bool = true

@description('The data account (the inbox lives there); empty without a system topic.')
param storageAccountId string

param logAnalyticsId string

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  // Its identity writes dead letters (deadLetterWithResourceIdentity), so no
  // storage key or SAS exists anywhere.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    // Publishers authenticate with Entra ID (the app's identity holds
    // EventGrid Data Sender); access keys and SAS tokens are refused.
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    // The app publishes from Flex Consumption without a virtual network.
    publicNetworkAccess: 'Enabled'
    // Lets Microsoft fail the topic's metadata over to the paired region.
    dataResidencyBoundary: 'WithinGeopair'
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (createSystemTopic) {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Delivery and publish failures in Log Analytics, for the dead-letter runbook.
resource topicDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: topic
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'DeliveryFailures'
        enabled: true
      }
      {
        category: 'PublishFailures'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource systemTopicDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (createSystemTopic) {
  name: 'to-log-analytics'
  scope: systemTopic
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'DeliveryFailures'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output topicId string = topic.id
output topicEndpoint string = topic.properties.endpoint
output topicPrincipalId string = topic.identity.principalId
output systemTopicId string = createSystemTopic ? systemTopic.id : ''
output systemTopicPrincipalId string = createSystemTopic ? systemTopic.identity.principalId : ''
