// A Logic App (Consumption) that receives every completion CloudEvent from the
// app's webhook sender (notifications/). keyvault.bicep reads its callback URL
// with listCallbackUrl() into a Key Vault secret, which LOGIC_APP_URL
// references; the URL carries a SAS signature, so it is never an output.

param name string
param location string
param tags object
param logAnalyticsId string

// Trigger schema: the completion CloudEvent (processing/processor.py
// _completion_event). Fields a failure lacks are optional; `error` replaces
// `result_url` on document.processing.failed.
var completionEventSchema = {
  type: 'object'
  required: [
    'specversion'
    'id'
    'source'
    'type'
    'time'
    'data'
  ]
  properties: {
    specversion: {
      type: 'string'
    }
    id: {
      type: 'string'
    }
    source: {
      type: 'string'
    }
    type: {
      type: 'string'
      enum: [
        'document.processing.completed'
        'document.processing.failed'
      ]
    }
    subject: {
      type: 'string'
    }
    time: {
      type: 'string'
    }
    datacontenttype: {
      type: 'string'
    }
    data: {
      type: 'object'
      required: [
        'document_id'
        'status'
        'timestamp'
      ]
      properties: {
        document_id: {
          type: 'string'
        }
        status: {
          type: 'string'
        }
        timestamp: {
          type: 'string'
        }
        filename: {
          type: [
            'string'
            'null'
          ]
        }
        sha256: {
          type: [
            'string'
            'null'
          ]
        }
        size_bytes: {
          type: [
            'integer'
            'null'
          ]
        }
        content_type: {
          type: [
            'string'
            'null'
          ]
        }
        source: {
          type: 'string'
        }
        result_url: {
          type: 'string'
        }
        error: {
          type: 'object'
          properties: {
            code: {
              type: 'string'
            }
            message: {
              type: 'string'
            }
          }
        }
      }
    }
  }
}

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    state: 'Enabled'
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      triggers: {
        manual: {
          type: 'Request'
          kind: 'Http'
          inputs: {
            method: 'POST'
            schema: completionEventSchema
          }
        }
      }
      // The sample action: a summary of the outcome, visible in the run
      // history. Replace it with the business process (mail, Teams, ticket...).
      actions: {
        Summarize_completion: {
          type: 'Compose'
          runAfter: {}
          inputs: {
            document_id: '@triggerBody()?[\'data\']?[\'document_id\']'
            outcome: '@triggerBody()?[\'type\']'
            status: '@triggerBody()?[\'data\']?[\'status\']'
            result_url: '@triggerBody()?[\'data\']?[\'result_url\']'
            error_code: '@triggerBody()?[\'data\']?[\'error\']?[\'code\']'
          }
        }
      }
      outputs: {}
    }
  }
}

// Failed runs are in Log Analytics next to the app's telemetry.
resource workflowDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workflow
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'WorkflowRuntime'
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

output name string = workflow.name
output triggerName string = 'manual'
