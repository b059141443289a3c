export const clusterPlaceholder = true;
