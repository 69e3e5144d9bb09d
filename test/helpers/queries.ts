// Policy queries the tests send as job inputs, against config/policies/ (entities.json):
// acme/website is public, acme/payments is frozen, acme/api is neither.
export const readWebsite = {
  action: { type: 'Gatehouse::Action', id: 'read' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
};

export const deployApi = {
  action: { type: 'Gatehouse::Action', id: 'deploy' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
};
