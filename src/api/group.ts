export const API_GROUP = 'plexus.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}` as const;
/** `kubectl get plexus` lists every Plexus resource. */
export const CATEGORY = 'plexus';
