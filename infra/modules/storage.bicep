// The data account: documents (uploads, inbox), results, Event Grid dead
// letters, the app's tables and its webhook queue. Nothing of the Functions
// host lives here (its keys, locks and the deployment package are in the host
// account, host-storage.bicep), so the identity that reads documents cannot
// reach them, and the app identity's roles here are scoped to the containers,
// tables and queues below (storage-roles.bicep). Access is Microsoft Entra ID
// only (no account keys, no SAS, no anonymous read); the account's properties
// are the host account's, word for word (tests/unit/test_infra.py).

param name string
param location string
param tags object

@description('Redundancy; see main.bicep.')
param sku string

@description('Container, table and queue names shared with the app (main.bicep storageNames).')
param names object

@description('Days before raw uploads are deleted.')
param uploadRetentionDays int

@description('Days that deleted or overwritten blobs stay recoverable.')
param blobRecoveryDays int

@description('Days before results are deleted (RESULTS_RETENTION_DAYS); 0 keeps them.')
param resultsRetentionDays int = 0

// The archive tier exists only on LRS, GRS and RA-GRS accounts; zone-redundant
// accounts (ZRS, GZRS, RA-GZRS) move results to cold storage instead.
var supportsArchive = contains([
  'Standard_LRS'
  'Standard_GRS'
  'Standard_RAGRS'
], sku)
// Results move to cool after 30 days and to archive (or cold) after 90. With
// a retention of N days they are deleted after N, and a tier change is kept
// only when the blob would then stay in that tier for its minimum (cool 30
// days, cold 90, archive 180), or the early deletion is billed anyway. Raw
// uploads never outlive the results: they expire after the shorter of the two.
var expireResults = resultsRetentionDays > 0
var coolResults = (!expireResults || (resultsRetentionDays > 60)) ? { tierToCool: { daysAfterModificationGreaterThan: 30 } } : {}
var archiveResults = (!expireResults || (resultsRetentionDays > (supportsArchive ? 270 : 180))) ? (supportsArchive ? { tierToArchive: { daysAfterModificationGreaterThan: 90 } } : { tierToCold: { daysAfterModificationGreaterThan: 90 } }) : {}
var deleteResults = expireResults ? { delete: { daysAfterModificationGreaterThan: resultsRetentionDays } } : {}
var agedResultsActions = union(coolResults, archiveResults, deleteResults)
var rawUploadDays = (expireResults && (resultsRetentionDays < uploadRetentionDays)) ? resultsRetentionDays : uploadRetentionDays

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: sku
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    // Identity-only: the Functions host, the app and Event Grid all use
    // managed identities, so account keys are switched off.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without virtual network integration reaches storage
    // over its public endpoint; every request still needs an Entra token.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

// Child resources are top-level with `parent:` rather than nested: pycep-parser
// 0.5.1 (used by checkov) keeps only the last of several nested children, so
// nested declarations would hide resources from the offline checks.

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Versioning and soft delete: an overwritten or deleted blob (or a
    // deleted container) can be restored for blobRecoveryDays, so a bad
    // write or a mistaken delete loses nothing (RPO 0 for those).
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: blobRecoveryDays
      allowPermanentDelete: false
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobRecoveryDays
    }
  }
}

// Every container the app and Event Grid use: with STORAGE_PROVISIONED=true
// the app never creates one (its roles here could not), so each must exist.
var containerNames = [
  names.uploadsContainer
  names.inboxContainer
  names.resultsContainer
  names.deadLetterContainer
]

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in containerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// The webhook queue trigger binds to this account (connection DATA_STORAGE),
// so the Functions host puts poison messages in `<queue>-poison` here. It
// would create that queue on the first poison message, which the app
// identity's roles do not allow: the queue is declared, and the identity may
// only add messages to it.
var queueNames = [
  names.webhookQueue
  names.webhookPoisonQueue
  names.searchReindexQueue
  names.searchReindexPoisonQueue
  names.webingestQueue
  names.webingestPoisonQueue
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// Created here, never by the app (STORAGE_PROVISIONED=true).
var tableNames = [
  names.documentsTable
  names.webhookSubscriptionsTable
  names.webhookDeliveriesTable
  names.searchStatusTable
  names.webingestTable
]

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'age-results'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${names.resultsContainer}/'
              ]
            }
            actions: {
              baseBlob: agedResultsActions
            }
          }
        }
        {
          name: 'expire-raw-uploads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${names.uploadsContainer}/'
                '${names.inboxContainer}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: rawUploadDays
                }
              }
            }
          }
        }
        {
          // Versioning keeps every overwritten or deleted blob; past the
          // recovery window they only cost money.
          name: 'expire-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: blobRecoveryDays
                }
              }
            }
          }
        }
      ]
    }
  }
  // Containers first: a rule's prefix names a container.
  dependsOn: [
    containers
  ]
}

output id string = account.id
output name string = account.name
