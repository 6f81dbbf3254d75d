// Alerts, all to the one action group: function failures, HTTP 5xx rate,
// Event Grid dead-lettered and dropped events, webhook dead letters.
// Log alerts run every 15 minutes rather than 5 (a third of the price, still
// well inside the seed's 1-hour recovery point).

param location string
param tags object
param namePrefix string
param actionGroupId string
param logAnalyticsId string
param topicId string

@description('Empty when there is no storage system topic (disaster-recovery mode).')
param systemTopicId string

param functionAppName string

@description('Failed invocations (excluding HTTP 4xx answers) in 15 minutes that raise an alert.')
param functionFailureThreshold int = 5

@description('Percentage of HTTP requests answered 5xx in 15 minutes that raises an alert.')
param http5xxPercentThreshold int = 5

@description('Minimum HTTP requests in the window before the 5xx rate is judged.')
param http5xxMinimumRequests int = 20

@description('Log message of a webhook delivery given up (notifications/delivery.py).')
param webhookDeadLetterEvent string = 'webhook.dead_lettered'

@description('Queue the Functions host moves poison webhook jobs to.')
param webhookPoisonQueue string = 'webhook-deliveries-poison'

var eventGridAlerts = [
  {
    name: 'topic-dead-lettered'
    scope: topicId
    namespace: 'Microsoft.EventGrid/topics'
    metric: 'DeadLetteredCount'
    description: 'Event Grid dead-lettered app events (document.uploaded or completions) into the deadletters container: a function kept failing for the whole retry policy.'
  }
  {
    name: 'topic-dropped'
    scope: topicId
    namespace: 'Microsoft.EventGrid/topics'
    metric: 'DroppedEventCount'
    description: 'Event Grid dropped app events without dead-lettering them.'
  }
  {
    name: 'storage-dead-lettered'
    scope: systemTopicId
    namespace: 'Microsoft.EventGrid/systemTopics'
    metric: 'DeadLetteredCount'
    description: 'Event Grid dead-lettered BlobCreated events from the inbox container.'
  }
  {
    name: 'storage-dropped'
    scope: systemTopicId
    namespace: 'Microsoft.EventGrid/systemTopics'
    metric: 'DroppedEventCount'
    description: 'Event Grid dropped BlobCreated events from the inbox container.'
  }
]

resource eventGridMetricAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [for alert in eventGridAlerts: if (!empty(alert.scope)) {
  name: 'alert-${namePrefix}-${alert.name}'
  location: 'global'
  tags: tags
  properties: {
    description: alert.description
    severity: 1
    enabled: true
    scopes: [
      alert.scope
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: alert.metric
          metricNamespace: alert.namespace
          metricName: alert.metric
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
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
}]

var logAlerts = [
  {
    name: 'function-failures'
    displayName: 'Function failures'
    description: 'Function invocations failed (HTTP 4xx answers excluded). Event-driven failures are retried by Event Grid and the queue trigger; repeated ones end as dead letters.'
    severity: 2
    query: 'AppRequests | where AppRoleName =~ "${functionAppName}" | where Success == false and not(ResultCode startswith "4") | summarize failures = count()'
    column: 'failures'
    threshold: functionFailureThreshold - 1
  }
  {
    name: 'http-5xx-rate'
    displayName: 'HTTP 5xx rate'
    description: 'The share of HTTP requests answered with a 5xx status is above the threshold.'
    severity: 2
    query: 'AppRequests | where AppRoleName =~ "${functionAppName}" and isnotempty(Url) | summarize total = count(), errors = countif(ResultCode startswith "5") | where total >= ${http5xxMinimumRequests} | extend errorPercent = 100.0 * errors / total'
    column: 'errorPercent'
    threshold: http5xxPercentThreshold
  }
  {
    name: 'webhook-dead-letters'
    displayName: 'Webhook dead letters'
    description: 'A webhook or Logic App delivery was given up (dead-lettered in the deliveries table) or a delivery job was moved to the poison queue. See GET /api/dead-letters.'
    severity: 2
    query: 'AppTraces | where AppRoleName =~ "${functionAppName}" | where Message has "${webhookDeadLetterEvent}" or Message has "${webhookPoisonQueue}" | summarize deadLetters = count()'
    column: 'deadLetters'
    threshold: 0
  }
]

resource logQueryAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: 'alert-${namePrefix}-${alert.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: alert.displayName
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [
      logAnalyticsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // The App* tables appear with the first telemetry, after deployment.
    skipQueryValidation: true
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Maximum'
          metricMeasureColumn: alert.column
          operator: 'GreaterThan'
          threshold: alert.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroupId
      ]
    }
  }
}]

