/** Env vars named SELF_HEALING_<SECTION>__<FIELD>... set a config path ("__" separates levels). */
export const ENV_PREFIX = 'SELF_HEALING_';
