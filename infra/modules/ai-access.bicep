// The primary's AI-service roles for one more identity (the passive region's
// app, region.bicep), on the existing accounts in the primary's resource
// group: Language Reader (language.bicep), Search Index Data Contributor and
// Search Service Contributor (search.bicep), Cognitive Services OpenAI User
// (embeddings.bicep). An empty account name: that service is not deployed.

@description('Principal id of the identity that calls the services.')
param appPrincipalId string

param languageAccountName string
param searchServiceName string
param embeddingsAccountName string

var languageReaderRoleId = '7628b7b8-a8b2-4cdc-b46f-e9b35248918e'
var indexDataContributorRoleId = '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
var serviceContributorRoleId = '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
var openAiUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource language 'Microsoft.CognitiveServices/accounts@2026-07-01' existing = if (!empty(languageAccountName)) {
  name: empty(languageAccountName) ? 'none' : languageAccountName
}

resource appLanguageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(languageAccountName)) {
  name: guid(language.id, appPrincipalId, languageReaderRoleId)
  scope: language
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', languageReaderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource search 'Microsoft.Search/searchServices@2025-05-01' existing = if (!empty(searchServiceName)) {
  name: empty(searchServiceName) ? 'none' : searchServiceName
}

resource appIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(searchServiceName)) {
  name: guid(search.id, appPrincipalId, indexDataContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', indexDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(searchServiceName)) {
  name: guid(search.id, appPrincipalId, serviceContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource embeddings 'Microsoft.CognitiveServices/accounts@2026-07-01' existing = if (!empty(embeddingsAccountName)) {
  name: empty(embeddingsAccountName) ? 'none' : embeddingsAccountName
}

resource appOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(embeddingsAccountName)) {
  name: guid(embeddings.id, appPrincipalId, openAiUserRoleId)
  scope: embeddings
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAiUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}
