// The host account: the Functions host's own storage (AzureWebJobsStorage:
// host and function keys in azure-webjobs-secrets, timer and singleton locks
// in azure-webjobs-hosts, diagnostic events) and the Flex Consumption
// deployment package. Nothing of the app's data lives here, and only the host
// identity holds a role on it (host-storage-roles.bicep): the identity that
// reads documents can neither rewrite the package nor read the keys.
// Security properties are the data account's, word for word
// (tests/unit/test_infra.py compares them).

param name string
param location string
param tags object

@description('Redundancy; see main.bicep (hostStorageSku).')
param sku string

@description('The deployment package container.')
param deploymentContainerName string

@description('Days that deleted or overwritten blobs (keys, the package) stay recoverable.')
param blobRecoveryDays int

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

// Top-level children with `parent:` (pycep-parser keeps only the last nested one).

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // As on the data account: a deleted key store or an overwritten package
    // can be restored for blobRecoveryDays (roll back a bad deployment by
    // promoting the previous version of the package blob).
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

// The host creates azure-webjobs-hosts and azure-webjobs-secrets itself (its
// identity holds Storage Blob Data Owner here); the package container must
// exist before the first deployment.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          // The host rewrites small status and lock blobs every few minutes;
          // versioning keeps each old copy, which past the recovery window
          // only costs money.
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
  // Versioning on first: the rule acts on previous versions.
  dependsOn: [
    blobService
  ]
}

output id string = account.id
output name string = account.name
