// Log Analytics, workspace-based Application Insights (Entra ID ingestion only),
// the action group every alert notifies, and an optional cost budget.

param location string
param tags object
param logAnalyticsName string
param appInsightsName string
param actionGroupName string
param budgetName string
param alertEmail string
param logRetentionDays int

@description('Daily ingestion cap in GB; -1: no cap.')
param logDailyCapGb int
param monthlyBudget int
param budgetStartDate string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
    // -1 (main.bicep's default): no cap, so nobody can blind the log alerts
    // by flooding the logs. A cap stops ingestion, and those alerts, for the
    // rest of the day once reached (see logDailyCapGb in main.bicep).
    workspaceCapping: {
      dailyQuotaGb: logDailyCapGb
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Telemetry is accepted only with an Entra token: the app sends it with
    // its identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), which holds
    // Monitoring Metrics Publisher (roles.bicep).
    DisableLocalAuth: true
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'docflow'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Cost control: email at 80% of the actual monthly spend and at 100% of the
// forecast. Opt-in (monthlyBudget > 0).
resource budget 'Microsoft.Consumption/budgets@2023-05-01' = if (monthlyBudget > 0) {
  name: budgetName
  properties: {
    category: 'Cost'
    amount: monthlyBudget
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: budgetStartDate
    }
    notifications: {
      actual80: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 80
        thresholdType: 'Actual'
        contactEmails: [
          alertEmail
        ]
        contactGroups: [
          actionGroup.id
        ]
      }
      forecast100: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 100
        thresholdType: 'Forecasted'
        contactEmails: [
          alertEmail
        ]
        contactGroups: [
          actionGroup.id
        ]
      }
    }
  }
}

output logAnalyticsId string = workspace.id
output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output actionGroupId string = actionGroup.id
