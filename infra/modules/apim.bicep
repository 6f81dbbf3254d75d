// Optional API Management in front of the app (main.bicep apiManagement,
// docs/deploy.md "API Management"): one API at /api forwarding every method
// to the function app's /api, with the policy in infra/apim/policy.xml
// (validate-jwt against the issuer's OpenID configuration, audience, issuer
// and tenant; rate-limit-by-key per caller). The app still validates every
// token itself: the gateway is a second wall and a rate limiter, not the
// only check. Callers never hold the function key: the backend adds it.

param name string
param location string
param tags object

@description('API Management tier (main.bicep apiManagementSku).')
param sku string

param publisherEmail string

@description('The function app whose host key the gateway sends (x-functions-key).')
param functionAppName string

@description('Base URL the API forwards to: the app\'s (or Front Door\'s) /api.')
param backendUrl string

@description('Token issuer (AUTH_ISSUER), audience (AUTH_AUDIENCE) and tenant.')
param issuer string
param audience string
param tenantId string

@minValue(1)
param rateLimitCalls int

@minValue(1)
@maxValue(300)
param rateLimitPeriodSeconds int

@minValue(0)
param clockSkewSeconds int = 60

param logAnalyticsId string

// The anonymous routes (operation names the policy exempts from validate-jwt).
var anonymousOperations = [
  {
    name: 'health'
    urlTemplate: '/health'
  }
  {
    name: 'health-ready'
    urlTemplate: '/health/ready'
  }
  {
    name: 'openapi'
    urlTemplate: '/openapi.yaml'
  }
]
var methods = [
  'GET'
  'POST'
  'PUT'
  'PATCH'
  'DELETE'
]
var policy = replace(replace(replace(replace(replace(replace(replace(loadTextContent('../apim/policy.xml'), '__OPENID_CONFIG_URL__', '${issuer}/.well-known/openid-configuration'), '__AUDIENCE__', audience), '__ISSUER__', issuer), '__TENANT_ID__', tenantId), '__CALLS__', string(rateLimitCalls)), '__PERIOD__', string(rateLimitPeriodSeconds)), '__CLOCK_SKEW__', string(clockSkewSeconds))

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource service 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    capacity: 1
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: 'docflow'
  }
}

// The function key, as a secret named value (never shown, never output).
resource functionKey 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: service
  name: 'function-key'
  properties: {
    displayName: 'function-key'
    secret: true
    value: listKeys('${functionApp.id}/host/default', '2024-04-01').functionKeys.default
  }
}

resource backend 'Microsoft.ApiManagement/service/backends@2024-05-01' = {
  parent: service
  name: 'function-app'
  properties: {
    url: backendUrl
    protocol: 'http'
    credentials: {
      header: {
        'x-functions-key': [
          '{{function-key}}'
        ]
      }
    }
    tls: {
      validateCertificateChain: true
      validateCertificateName: true
    }
  }
  dependsOn: [
    functionKey
  ]
}

resource api 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: service
  name: 'docflow'
  properties: {
    displayName: 'docflow'
    path: 'api'
    protocols: [
      'https'
    ]
    serviceUrl: backendUrl
    // Callers authenticate with Entra ID tokens, not APIM subscription keys.
    subscriptionRequired: false
  }
}

resource anonymous 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for operation in anonymousOperations: {
  parent: api
  name: operation.name
  properties: {
    displayName: 'GET ${operation.urlTemplate}'
    method: 'GET'
    urlTemplate: operation.urlTemplate
  }
}]

resource everything 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for method in methods: {
  parent: api
  name: toLower(method)
  properties: {
    displayName: '${method} /*'
    method: method
    urlTemplate: '/*'
  }
}]

resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: api
  name: 'policy'
  properties: {
    format: 'rawxml'
    value: policy
  }
  dependsOn: [
    backend
  ]
}

resource gatewayDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: service
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'GatewayLogs'
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

output name string = service.name
output apiUrl string = '${service.properties.gatewayUrl}/api'
