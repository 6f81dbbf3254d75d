// Azure AI Search for the search capability (search/azure_search.py): RBAC
// only (disableLocalAuth: no admin or query keys), a system identity, and the
// app identity allowed to create and update its index and to read and write
// documents in it, nothing more.

param name string
param location string
param tags object

@description('Pricing tier. basic: 15 GB, 3 replicas at most; standard tiers for more.')
@allowed([
  'free'
  'basic'
  'standard'
  'standard2'
  'standard3'
])
param sku string = 'basic'

@description('Replicas (query throughput and availability: two for read SLA, three for read-write SLA).')
@minValue(1)
@maxValue(12)
param replicaCount int = 1

@description('Partitions (storage and indexing throughput).')
@allowed([
  1
  2
  3
  4
  6
  12
])
param partitionCount int = 1

@description('Semantic ranker plan: free (1,000 queries a month), standard, or disabled.')
@allowed([
  'disabled'
  'free'
  'standard'
])
param semanticSearch string = 'free'

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

// Built-in roles ("Connect to Azure AI Search using roles"): Search Index Data
// Contributor reads and writes documents of every index; Search Service
// Contributor manages index definitions (create or update the index), which
// the data role cannot.
var indexDataContributorRoleId = '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
var serviceContributorRoleId = '7ca78c08-252a-4471-8644-bb5ff32d4ba0'

resource search 'Microsoft.Search/searchServices@2025-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    replicaCount: replicaCount
    partitionCount: partitionCount
    hostingMode: 'Default'
    disableLocalAuth: true
    publicNetworkAccess: 'enabled'
    semanticSearch: semanticSearch
  }
}

resource appIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, indexDataContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', indexDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, serviceContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${search.name}.search.windows.net'
output id string = search.id
