// The app's user-assigned identity. User-assigned rather than system-assigned
// so its role assignments exist before the function app does (the Functions
// host needs storage access from its first start) and survive a re-creation of
// the app.

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
