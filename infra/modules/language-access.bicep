// Language Reader for one more identity on an existing Azure AI Language
// account (the passive region's app, region.bicep): the same least-privilege
// role language.bicep gives the primary's app identity.

param languageAccountName string

@description('Principal id of the identity that calls the Language runtime API.')
param appPrincipalId string

var languageReaderRoleId = '7628b7b8-a8b2-4cdc-b46f-e9b35248918e'

resource language 'Microsoft.CognitiveServices/accounts@2026-07-01' existing = {
  name: languageAccountName
}

resource appLanguageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(language.id, appPrincipalId, languageReaderRoleId)
  scope: language
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', languageReaderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}
