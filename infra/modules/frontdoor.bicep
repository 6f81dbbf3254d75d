// Azure Front Door Standard in front of both regions' HTTP APIs (main.bicep
// secondaryLocation, docs/operations.md): one endpoint, one origin group whose
// health probe asks each app's readiness route (/api/health/ready: storage and
// the event topic answer), and priority routing: every request goes to the
// primary while its probes pass, to the secondary while they fail (active-
// passive). Failing over needs no control-plane change. The function keys
// travel through unchanged (x-functions-key header or code query parameter).

param tags object
param profileName string
param endpointName string

@description('Default host name of the primary region\'s function app.')
param primaryHostName string

@description('Default host name of the secondary region\'s function app.')
param secondaryHostName string

@description('Seconds between probes from each Front Door edge location to each origin.')
@minValue(5)
@maxValue(255)
param probeIntervalSeconds int = 60

@description('Action group for the origin health alert (the primary region\'s).')
param actionGroupId string

resource profile 'Microsoft.Cdn/profiles@2025-12-01' = {
  name: profileName
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    // Uploads of up to 100 MB and a cold start must fit in one origin response.
    originResponseTimeoutSeconds: 120
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2025-12-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

// An origin is healthy while at least 3 of its last 4 probes got a 200: two
// failed probes in a row (one to two probe intervals) take it out of rotation.
resource originGroup 'Microsoft.Cdn/profiles/originGroups@2025-12-01' = {
  parent: profile
  name: 'functions'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 0
    }
    healthProbeSettings: {
      probePath: '/api/health/ready'
      // GET: the route answers GET only.
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: probeIntervalSeconds
    }
    sessionAffinityState: 'Disabled'
  }
}

resource primaryOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2025-12-01' = {
  parent: originGroup
  name: 'primary'
  properties: {
    hostName: primaryHostName
    originHostHeader: primaryHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

resource secondaryOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2025-12-01' = {
  parent: originGroup
  name: 'secondary'
  properties: {
    hostName: secondaryHostName
    originHostHeader: secondaryHostName
    httpPort: 80
    httpsPort: 443
    priority: 2
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

// Everything (the API, the OpenAPI document, the health routes), HTTPS only:
// plain HTTP is redirected, and Front Door talks HTTPS to the apps.
resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2025-12-01' = {
  parent: endpoint
  name: 'api'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    supportedProtocols: [
      'Http'
      'Https'
    ]
    patternsToMatch: [
      '/*'
    ]
    forwardingProtocol: 'HttpsOnly'
    httpsRedirect: 'Enabled'
    linkToDefaultDomain: 'Enabled'
    enabledState: 'Enabled'
  }
  dependsOn: [
    primaryOrigin
    secondaryOrigin
  ]
}

// Fires when an origin fails its probes: traffic has moved (or is about to move)
// to the other region. The runbook is in docs/operations.md.
resource originHealthAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${profileName}-origin-health'
  location: 'global'
  tags: tags
  properties: {
    description: 'A Front Door origin (a region\'s function app) is failing its readiness probes: see docs/operations.md, failover.'
    severity: 1
    enabled: true
    scopes: [
      profile.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'OriginHealthPercentage'
          metricNamespace: 'Microsoft.Cdn/profiles'
          metricName: 'OriginHealthPercentage'
          operator: 'LessThan'
          threshold: 100
          timeAggregation: 'Average'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroupId
      }
    ]
  }
}

output endpointHostName string = endpoint.properties.hostName
output profileName string = profile.name
