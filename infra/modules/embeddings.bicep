// Azure OpenAI with one embedding model deployment for the search capability
// (search/openai_embeddings.py): Entra ID only (disableLocalAuth, custom
// subdomain), and the app identity allowed to call inference only.

param name string
param location string
param tags object

@description('Embedding model name.')
param model string = 'text-embedding-3-small'

@description('Model version.')
param modelVersion string = '1'

@description('Deployment SKU: GlobalStandard (pay per token, global routing) or Standard (regional).')
@allowed([
  'GlobalStandard'
  'Standard'
])
param deploymentSku string = 'GlobalStandard'

@description('Capacity in thousands of tokens per minute.')
@minValue(1)
param capacity int = 120

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

// Cognitive Services OpenAI User: inference calls (embeddings), no keys, no
// deployments, no account management.
var openAiUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource account 'Microsoft.CognitiveServices/accounts@2026-07-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    restrictOutboundNetworkAccess: true
    allowedFqdnList: []
  }
}

resource deployment 'Microsoft.CognitiveServices/accounts/deployments@2026-07-01' = {
  parent: account
  name: model
  sku: {
    name: deploymentSku
    capacity: capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: model
      version: modelVersion
    }
  }
}

resource appOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, openAiUserRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAiUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = account.properties.endpoint
output deployment string = deployment.name
