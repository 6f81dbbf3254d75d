// The host identity's roles, on the host account only (host-storage.bicep).
// It is the identity of AzureWebJobsStorage (AzureWebJobsStorage__clientId)
// and of the Flex Consumption deployment package; the app identity has no
// role here, and this identity has none on the data account.

param storageAccountName string

@description('Principal id of the host\'s user-assigned identity.')
param hostPrincipalId string

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Host identity, blobs, whole host account: Microsoft documents Storage Blob
// Data Owner as the minimum for an identity-based AzureWebJobsStorage (the
// host creates its containers, keeps host and function keys in
// azure-webjobs-secrets and takes timer and singleton locks with blob leases),
// and Flex Consumption reads the deployment package from the package
// container as this identity. Account scope because the host creates its own
// containers; the account holds nothing else.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, hostPrincipalId, roleIds.storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: hostPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Host identity, tables, whole host account: the host persists its diagnostic
// events in a table of AzureWebJobsStorage (documented as the one addition to
// Owner for a host without extensions that use this connection). No queue role:
// only the blob trigger and Durable Functions use AzureWebJobsStorage queues,
// and the webhook queue trigger binds to the data account (DATA_STORAGE).
resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, hostPrincipalId, roleIds.storageTableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: hostPrincipalId
    principalType: 'ServicePrincipal'
  }
}
