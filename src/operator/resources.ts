import {
  API_GROUP,
  API_VERSION,
  DATARUN_KIND,
  DATARUN_PLURAL,
  STREAMBRIDGE_KIND,
  STREAMBRIDGE_PLURAL,
} from '../api/index.js';
import type { ResourceType } from './kube-client.js';

export const DATARUN_RESOURCE: ResourceType = {
  group: API_GROUP,
  version: API_VERSION,
  plural: DATARUN_PLURAL,
  kind: DATARUN_KIND,
};

export const STREAMBRIDGE_RESOURCE: ResourceType = {
  group: API_GROUP,
  version: API_VERSION,
  plural: STREAMBRIDGE_PLURAL,
  kind: STREAMBRIDGE_KIND,
};
