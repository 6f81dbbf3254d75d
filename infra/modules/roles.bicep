// The app identity's roles outside storage (storage roles: storage-roles.bicep;
// the host identity's: host-storage-roles.bicep).

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

param topicName string
param appInsightsName string

var roleIds = {
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// App identity, the custom topic only: the app publishes document.uploaded and
// the completion events; the topic refuses keys (disableLocalAuth).
resource appEventSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, appPrincipalId, roleIds.eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventGridDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App identity, Application Insights only: with DisableLocalAuth the
// component accepts telemetry only from principals holding this role. The
// worker and the Functions host both send with
// APPLICATIONINSIGHTS_AUTHENTICATION_STRING, which names this identity.
resource appTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}
