// Event Grid subscriptions, deployed by the postdeploy hook (infra/hooks/)
// after `azd deploy`: Event Grid validates an AzureFunction endpoint when the
// subscription is created, so the function must exist first.
//
// The subscriptions come from infra/event-subscriptions.json, the file the local
// dev host (tools/devhost/eventroutes.py) reads too, so Azure and the local host
// route the same events to the same functions with the same filters and retry
// policy. (pycep-parser parses loadJsonContent(); checkov sees the loops.)

@description('The function app that receives the events.')
param functionAppName string

@description('The app\'s custom topic.')
param topicName string

@description('The data account\'s system topic; empty in disaster-recovery mode (no blob-drop events).')
param systemTopicName string = ''

@description('Resource id of the data account, which holds the dead-letter container (AZURE_STORAGE_ACCOUNT_ID).')
param storageAccountId string

@description('Container for events Event Grid gives up on.')
param deadLetterContainerName string = 'deadletters'

@description('Functions the deployed code contains (the hook lists them); subscriptions to other functions are skipped until their code is deployed.')
param deployedFunctions array

var config = loadJsonContent('event-subscriptions.json')

// Dead letters are written with the topic's own identity, which holds Blob
// Data Contributor on the dead-letter container only (storage-roles.bicep).
var deadLetter = {
  identity: {
    type: 'SystemAssigned'
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: storageAccountId
      blobContainerName: deadLetterContainerName
    }
  }
}

var retryPolicy = {
  maxDeliveryAttempts: config.retryPolicy.maxDeliveryAttempts
  eventTimeToLiveInMinutes: config.retryPolicy.eventTimeToLiveInMinutes
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: empty(systemTopicName) ? 'none' : systemTopicName
}

// The custom topic's input is CloudEvents 1.0, so is its delivery schema.
resource topicSubscriptions 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = [for sub in config.subscriptions: if (sub.source == 'topic' && contains(deployedFunctions, sub.function)) {
  parent: topic
  name: sub.name
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${sub.function}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    filter: {
      includedEventTypes: sub.includedEventTypes
      subjectBeginsWith: sub.?subjectBeginsWith ?? ''
      subjectEndsWith: sub.?subjectEndsWith ?? ''
      advancedFilters: sub.?advancedFilters ?? []
      isSubjectCaseSensitive: false
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}]

// Storage events keep the Event Grid schema Azure Storage publishes, as the
// local host's blob watcher does (tools/devhost/blobwatch.py); the app accepts both.
resource storageSubscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = [for sub in config.subscriptions: if (!empty(systemTopicName) && sub.source == 'storage' && contains(deployedFunctions, sub.function)) {
  parent: systemTopic
  name: sub.name
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${sub.function}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: sub.includedEventTypes
      subjectBeginsWith: sub.?subjectBeginsWith ?? ''
      subjectEndsWith: sub.?subjectEndsWith ?? ''
      advancedFilters: sub.?advancedFilters ?? []
      isSubjectCaseSensitive: false
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}]
