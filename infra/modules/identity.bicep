// One user-assigned identity (main.bicep makes two: the host's and the app's).
// User-assigned rather than system-assigned so their role assignments exist
// before the function app does (the Functions host needs storage access from
// its first start), survive a re-creation of the app, and so the host and the
// app code can sign in as different principals with different roles.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
