// Azure AI Language (kind TextAnalytics) for the enrichment provider
// (processing/enrichment/azure_language.py): Entra ID only (disableLocalAuth),
// which needs the custom subdomain; the app identity may call the runtime
// text analysis API and nothing else.

param name string
param location string
param tags object

@description('Pricing tier: S (pay per 1,000 text records) or F0 (free: 5,000 records a month, one per subscription).')
@allowed([
  'S'
  'F0'
])
param sku string = 'S'

@description('Principal id of the app\'s user-assigned identity.')
param appPrincipalId string

// Cognitive Services Language Reader: per "Language role-based access control"
// (Azure AI Language docs), every Language role may call the prebuilt runtime
// features (the analyze-text API: NER, PII, language detection, key phrases),
// and Reader is the least of them (no authoring writes, no keys, no account
// management), narrower than Cognitive Services User.
var languageReaderRoleId = '7628b7b8-a8b2-4cdc-b46f-e9b35248918e'

resource language 'Microsoft.CognitiveServices/accounts@2026-07-01' = {
  name: name
  location: location
  tags: tags
  kind: 'TextAnalytics'
  sku: {
    name: sku
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

resource appLanguageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(language.id, appPrincipalId, languageReaderRoleId)
  scope: language
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', languageReaderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = language.properties.endpoint
output id string = language.id
