/**
 * The environment parser's edges that the spawned start-up tests do not cover one by one:
 * integer syntax, CORS origins and the misspelling check's reach (what it flags, and the common variables
 * of a container or CI machine it must leave alone).
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, misspelledVariables, misspellingWarning } from '../src/config.js';

describe('integer settings', () => {
  it.each(['8080', '0', '65535'])('takes %j', (port) => {
    expect(loadConfig({ PORT: port }).PORT).toBe(Number(port));
  });

  it.each(['0x1F90', '1e3', ' 80', '80 ', '+80', '-1', '80.0', '0b101', '８０', '99999999999999999999'])('refuses %j', (port) => {
    expect(() => loadConfig({ PORT: port })).toThrow(/PORT: must be an integer from 0 to 65535; got/);
  });
});

describe('timeouts', () => {
  it('the headers timeout follows a shorter request timeout unless it is set', () => {
    expect(loadConfig({}).HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '5000' }).HEADERS_TIMEOUT_MS).toBe(5_000);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '2000' }).HEADERS_TIMEOUT_MS).toBe(2_000);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' })).toThrow(/HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS \(5000\)/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '500' })).toThrow(/HEADERS_TIMEOUT_MS: must be an integer from 1000 to 600000; got "500"/);
  });
});

describe('request bodies in flight', () => {
  it('must hold at least one body at the limit', () => {
    expect(loadConfig({}).MAX_BODY_BYTES_IN_FLIGHT).toBe(32 * 1024 * 1024);
    expect(() => loadConfig({ BODY_LIMIT_BYTES: '4096', MAX_BODY_BYTES_IN_FLIGHT: '2048' })).toThrow(/MAX_BODY_BYTES_IN_FLIGHT: is 2048, and must be at least BODY_LIMIT_BYTES \(4096\)/);
    // Only BODY_LIMIT_BYTES raised: the refusal gives the other's value, its default, which the operator never typed.
    expect(() => loadConfig({ BODY_LIMIT_BYTES: String(64 * 1024 * 1024) })).toThrow(
      new RegExp(`MAX_BODY_BYTES_IN_FLIGHT: is ${loadConfig({}).MAX_BODY_BYTES_IN_FLIGHT}, and must be at least BODY_LIMIT_BYTES \\(67108864\\), or a body at the limit could never be read: raise it with BODY_LIMIT_BYTES`),
    );
  });

  it('a body limit a body could not be read as one string under is refused (V8 strings stop at ~512 MiB: such a body answered 500)', () => {
    expect(loadConfig({ BODY_LIMIT_BYTES: String(256 * 1024 * 1024), MAX_BODY_BYTES_IN_FLIGHT: String(256 * 1024 * 1024) }).BODY_LIMIT_BYTES).toBe(268_435_456);
    expect(() => loadConfig({ BODY_LIMIT_BYTES: String(1024 * 1024 * 1024), MAX_BODY_BYTES_IN_FLIGHT: String(1024 * 1024 * 1024) })).toThrow(
      /BODY_LIMIT_BYTES: must be an integer from 1024 to 268435456; got "1073741824"/,
    );
  });
});

describe('the MLflow tracking URI', () => {
  const withUri = (uri: string) => loadConfig({ MLFLOW_TRACKING_URI: uri, MODEL_URI: 'models:/telco-churn@champion' });

  it.each(['http://mlflow:5000', 'https://mlflow.example/prefix/', 'http://[::1]:5000/mlflow'])('takes %j', (uri) => {
    expect(withUri(uri).MLFLOW_TRACKING_URI).toBe(uri);
  });

  // The client appends /api/2.0/mlflow/... to it: behind a ? or # every call went to the server's root and failed as "invalid JSON".
  it.each(['http://mlflow:5000?x=1', 'http://mlflow:5000/?', 'http://mlflow:5000/#f', 'http://mlflow:5000/mlflow?token=abc'])('refuses %j, which has a query or fragment', (uri) => {
    expect(() => withUri(uri)).toThrow(/MLFLOW_TRACKING_URI: must not contain a query \(\?…\) or fragment \(#…\)/);
  });
});

describe('MODEL_URI', () => {
  const withModelUri = (uri: string) => loadConfig({ MLFLOW_TRACKING_URI: 'http://mlflow:5000', MODEL_URI: uri });

  it.each(['models:/telco-churn@champion', 'models:/produção@champion', 'models:/telco-churn/03', 'runs:/0a1b2c/bundle', 'models:/telco-churn@latest'])('takes %j', (uri) => {
    expect(withModelUri(uri).MODEL_URI).toBe(uri);
  });

  // Read by the parser the MLflow source resolves it with (parseModelUri): a name MLflow cannot hold (':'), an
  // alias outside ASCII, a second '@' stopped start-up with the same words as any other form it cannot resolve.
  it.each(['models:/telco:churn@champion', 'models:/telco:churn/3', 'models:/telco-churn@produção', 'models:/telco@churn@champion'])('refuses %j', (uri) => {
    expect(() => withModelUri(uri)).toThrow(/MODEL_URI: must look like models:\/telco-churn@champion, models:\/telco-churn\/3 or runs:\/<run id>\/bundle; got/);
  });

  // Well formed, but naming what MLflow never holds: the gateway started, failed to resolve it, and served its bundle with a warning.
  it.each([
    ['models:/telco-churn@v3', 'names the alias "v3", which MLflow never sets (it reads as a version): for version 3 use models:/telco-churn/3'],
    ['models:/telco-churn@V03', 'names the alias "V03", which MLflow never sets (it reads as a version): for version 3 use models:/telco-churn/3'],
    ['models:/..churn@champion', 'names the model "..churn", which MLflow cannot hold (a name that is "." or begins with "..")'],
    ['models:/./2', 'names the model ".", which MLflow cannot hold (a name that is "." or begins with "..")'],
  ])('refuses %j, saying why', (uri, why) => {
    expect(() => withModelUri(uri)).toThrow(`MODEL_URI: ${why}; got`);
  });
});

describe('MLflow credentials', () => {
  const mlflow = { MLFLOW_TRACKING_URI: 'http://mlflow:5000', MODEL_URI: 'models:/telco-churn@champion' };

  it('takes a username with its password, or a token; empty means unset', () => {
    expect(loadConfig({ ...mlflow, MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'pw' })).toMatchObject({ MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'pw' });
    expect(loadConfig({ ...mlflow, MLFLOW_TRACKING_TOKEN: 't0ken' }).MLFLOW_TRACKING_TOKEN).toBe('t0ken');
    expect(loadConfig({ ...mlflow, MLFLOW_TRACKING_TOKEN: '', MLFLOW_TRACKING_USERNAME: '', MLFLOW_TRACKING_PASSWORD: '' })).toMatchObject({ MLFLOW_TRACKING_TOKEN: undefined, MLFLOW_TRACKING_USERNAME: undefined });
  });

  it.each([
    [{ MLFLOW_TRACKING_USERNAME: 'reader' }, /MLFLOW_TRACKING_PASSWORD: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD must be set together/],
    [{ MLFLOW_TRACKING_PASSWORD: 'pw' }, /MLFLOW_TRACKING_USERNAME: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD must be set together/],
    [{ MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'pw', MLFLOW_TRACKING_TOKEN: 't' }, /MLFLOW_TRACKING_TOKEN: set either MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, not both/],
  ])('refuses %j', (credentials, problem) => {
    expect(() => loadConfig({ ...mlflow, ...credentials })).toThrow(problem);
  });

  it('refuses credentials without a tracking URI (they would be read by nothing), never quoting them', () => {
    const refused = (() => {
      try {
        loadConfig({ MLFLOW_TRACKING_TOKEN: 'secret-token-value' });
      } catch (err) {
        return err as ConfigError;
      }
      return null;
    })();
    expect(refused?.problems).toEqual(['MLFLOW_TRACKING_TOKEN: is only used with MLFLOW_TRACKING_URI, which is not set']);
  });
});

describe('the admin token', () => {
  const refusal = (token: string): ConfigError | null => {
    try {
      loadConfig({ ADMIN_TOKEN: token });
    } catch (err) {
      return err as ConfigError;
    }
    return null;
  };

  it('takes any visible ASCII, spaces inside included, as an Authorization header carries it', () => {
    expect(loadConfig({ ADMIN_TOKEN: 'Zq8+/_-~.=!$%&*a b' }).ADMIN_TOKEN).toBe('Zq8+/_-~.=!$%&*a b');
  });

  // Node trims a header value's surrounding whitespace and reads its bytes as Latin-1: such a
  // token could never be sent, and every reloadModel was answered 403 "needs the admin token".
  it.each([
    ['a trailing newline (a secret written from a file)', 'secret-admin-token-0123\n', 'begins or ends with whitespace'],
    ['a leading space', ' secret-admin-token-0123', 'begins or ends with whitespace'],
    ['a character outside ASCII', 'secret-admin-tökén-0123', 'has a character outside visible ASCII'],
    ['a control character', 'secret-admin\ttoken-0123', 'has a character outside visible ASCII'],
  ])('refuses one with %s, never quoting it', (_what, token, problem) => {
    const refused = refusal(token);
    expect(refused?.problems).toEqual([expect.stringContaining(`ADMIN_TOKEN: ${problem}`)]);
    expect(refused?.message).not.toContain(token.trim());
  });
});

describe('the revision the gateway was built from', () => {
  it.each([
    ['a full commit', '0123456789abcdef0123456789abcdef01234567', '0123456789abcdef0123456789abcdef01234567'],
    ['a short commit', 'abc1234', 'abc1234'],
    ['"unknown" (the image built without GIT_COMMIT)', 'unknown', 'unknown'],
    ['empty, as unset', '', 'unknown'],
  ])('takes %s', (_, sent, read) => {
    expect(loadConfig({ GATEWAY_REVISION: sent }).GATEWAY_REVISION).toBe(read);
  });

  it('is "unknown" when unset', () => {
    expect(loadConfig({}).GATEWAY_REVISION).toBe('unknown');
  });

  // What a build with a branch name, an unexpanded build arg or an abbreviation git would not print sends.
  // `git describe` output ends in a sha, and 65 hex digits is no git hash (SHA-1 40, SHA-256 64).
  it.each(['main', '${GIT_COMMIT}', '0123456789ABCDEF', 'abc123', 'v1.2.3', 'abc1234-dirty', 'v1.2.3-4-gabc1234', 'a'.repeat(65)])('refuses %j, naming the variable and what it takes', (sent) => {
    expect(() => loadConfig({ GATEWAY_REVISION: sent })).toThrow(
      `GATEWAY_REVISION: must be the git commit the gateway was built from (7 to 64 lower-case hex digits, as \`git rev-parse HEAD\` prints it) or "unknown"; got ${JSON.stringify(sent)}`,
    );
  });
});

describe('CORS origins', () => {
  // The Origin header is compared with each entry as a string: an entry a browser never sends would leave CORS silently closed.
  it('takes origins as browsers send them, comma-separated', () => {
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example, http://localhost:5173,,http://[::1]:8080 ' }).CORS_ORIGINS).toEqual(['https://app.example', 'http://localhost:5173', 'http://[::1]:8080']);
  });

  it('refuses every entry that could never match, each named with what is allowed', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ CORS_ORIGINS: 'http://a.example/,*,https://ok.example' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([
      'CORS_ORIGINS: entry "http://a.example/" must be an origin: scheme://host[:port], no path (did you mean "http://a.example"?)',
      'CORS_ORIGINS: entry "*": a wildcard is not supported; list the origins allowed instead, comma-separated (each scheme://host[:port], no path)',
    ]);
  });

  it.each([
    ['https://app.example/ui', 'https://app.example'],
    ['HTTPS://App.Example', 'https://app.example'],
    ['https://app.example:443', 'https://app.example'],
    ['http://app.example?x=1', 'http://app.example'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
  ])('refuses %j and suggests %j', (entry, meant) => {
    expect(() => loadConfig({ CORS_ORIGINS: entry })).toThrow(`CORS_ORIGINS: entry "${entry}" must be an origin: scheme://host[:port], no path (did you mean "${meant}"?)`);
  });

  it.each(['https://*.example.com', 'http://*'])('refuses the wildcard %j', (entry) => {
    expect(() => loadConfig({ CORS_ORIGINS: entry })).toThrow(`CORS_ORIGINS: entry "${entry}": a wildcard is not supported`);
  });

  it.each(['app.example', 'null', 'file:///srv/ui', 'chrome-extension://abcdef'])('refuses %j, which is not an http(s) origin', (entry) => {
    expect(() => loadConfig({ CORS_ORIGINS: entry })).toThrow(`CORS_ORIGINS: entry "${entry}" must be an http(s) origin: scheme://host[:port], no path`);
  });

  it('says to separate origins with commas', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example https://b.example' })).toThrow(/no path \(separate origins with commas\)/);
    // Space-separated with a path on the first: it parses as one URL, whose origin is not the
    // suggestion to make (it would drop https://b.example without a word).
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/ https://b.example/' })).toThrow('CORS_ORIGINS: entry "https://a.example/ https://b.example/" must be an http(s) origin: scheme://host[:port], no path (separate origins with commas)');
    // A semicolon parses as part of a host: no suggestion of "https://a.example;https".
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example;https://b.example' })).toThrow('CORS_ORIGINS: entry "https://a.example;https://b.example" must be an http(s) origin: scheme://host[:port], no path (separate origins with commas)');
  });
});

describe('switches', () => {
  // DOCS_ENABLED turns /docs off as GRAPHIQL_ENABLED turns GraphiQL off: the same words, the same refusal.
  it.each(['GRAPHIQL_ENABLED', 'DOCS_ENABLED'] as const)('%s is on unless set to false, 0 or no, and refuses anything else naming what it takes', (name) => {
    expect(loadConfig({})[name]).toBe(true);
    for (const value of ['false', '0', 'no']) expect(loadConfig({ [name]: value })[name], value).toBe(false);
    for (const value of ['true', '1', 'yes']) expect(loadConfig({ [name]: value })[name], value).toBe(true);
    for (const value of ['off', 'False', '']) expect(() => loadConfig({ [name]: value }), value).toThrow(`invalid configuration: ${name}: must be true or false; got ${JSON.stringify(value)}`);
    expect(misspelledVariables({ [name.toLowerCase()]: 'false', [name.slice(0, -1)]: 'false' })).toEqual([
      { given: name.toLowerCase(), meant: name },
      { given: name.slice(0, -1), meant: name },
    ]);
  });
});

describe('misspelled settings', () => {
  it('flags other cases, one edit, a swap of neighbours, and two edits in a long name', () => {
    expect(
      misspelledVariables({
        max_batch: '1',
        MAX_BACTH: '1',
        LOGLEVEL: 'debug',
        MLFLOW_TRACKING_URL: 'http://mlflow:5000',
        CORS_ORIGIN: 'https://a.example',
        GRAPHQL_MAX_DEPT: '4',
        MODEL_DIRS: '/m',
        BODY_LIMT_BYTE: '1024',
      }),
    ).toEqual([
      { given: 'max_batch', meant: 'MAX_BATCH' },
      { given: 'MAX_BACTH', meant: 'MAX_BATCH' },
      { given: 'LOGLEVEL', meant: 'LOG_LEVEL' },
      { given: 'MLFLOW_TRACKING_URL', meant: 'MLFLOW_TRACKING_URI' },
      { given: 'CORS_ORIGIN', meant: 'CORS_ORIGINS' },
      { given: 'GRAPHQL_MAX_DEPT', meant: 'GRAPHQL_MAX_DEPTH' },
      { given: 'MODEL_DIRS', meant: 'MODEL_DIR' },
      // Two edits away from a name of 9 or more characters.
      { given: 'BODY_LIMT_BYTE', meant: 'BODY_LIMIT_BYTES' },
    ]);
  });

  it('flags the same words with a unit dropped or another added, a word of the name dropped, or one of its own added', () => {
    const given = {
      REQUEST_TIMEOUT: 'REQUEST_TIMEOUT_MS',
      SHUTDOWN_TIMEOUT: 'SHUTDOWN_TIMEOUT_MS',
      KEEP_ALIVE_TIMEOUT: 'KEEP_ALIVE_TIMEOUT_MS',
      HEADERS_TIMEOUT: 'HEADERS_TIMEOUT_MS',
      MLFLOW_TIMEOUT: 'MLFLOW_TIMEOUT_MS',
      MLFLOW_POLL_INTERVAL: 'MLFLOW_POLL_INTERVAL_MS',
      REQUEST_TIMEOUT_SEC: 'REQUEST_TIMEOUT_MS',
      BODY_LIMIT: 'BODY_LIMIT_BYTES',
      GRAPHIQL: 'GRAPHIQL_ENABLED',
      CHURN_MAX_BATCH: 'MAX_BATCH',
      MAX_BATCH_SIZE: 'MAX_BATCH',
      GATEWAY_LOG_LEVEL: 'LOG_LEVEL',
      MLFLOW_MODEL_URI: 'MODEL_URI',
      TRACKING_URI: 'MLFLOW_TRACKING_URI',
      // A folder by another word.
      MODEL_PATH: 'MODEL_DIR',
    };
    expect(misspelledVariables(Object.fromEntries(Object.keys(given).map((name) => [name, '1'])))).toEqual(Object.entries(given).map(([name, meant]) => ({ given: name, meant })));
  });

  it('leaves the settings themselves and the usual environment of a container, ECS task or CI machine alone', () => {
    const usual = ['PATH', 'HOME', 'HOSTNAME', 'PWD', 'TERM', 'LANG', 'TZ', 'NODE_VERSION', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'NODE_TLS_REJECT_UNAUTHORIZED', 'UV_THREADPOOL_SIZE', 'YARN_VERSION', 'DB_PORT', 'DOCKER_HOST', 'HTTP_PROXY', 'NO_PROXY'];
    const aws = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_EXECUTION_ENV', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'ECS_CONTAINER_METADATA_URI', 'ECS_CONTAINER_METADATA_URI_V4', 'ECS_AGENT_URI', 'ECS_CLUSTER', 'ECS_SERVICE'];
    // MLflow's own, which a training environment shared with the gateway sets: not settings the gateway has under another name.
    const mlflow = ['MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_REGISTRY_URI', 'MLFLOW_EXPERIMENT_NAME', 'MLFLOW_HTTP_REQUEST_TIMEOUT', 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', 'MLFLOW_TRACKING_INSECURE_TLS', 'MLFLOW_TRACKING_SERVER_CERT_PATH', 'MLFLOW_TRACKING_CLIENT_CERT_PATH', 'MLFLOW_S3_ENDPOINT_URL'];
    const npm = ['npm_config_cache', 'npm_config_loglevel', 'npm_config_local_prefix', 'npm_config_onnxruntime_node_install', 'npm_package_json', 'npm_package_engines_node', 'npm_lifecycle_event', 'npm_node_execpath', 'npm_execpath', 'npm_command'];
    const build = ['CHURN_DATA', 'CI', 'GITHUB_ACTIONS', 'ONNXRUNTIME_NODE_INSTALL', 'ORT_DISABLE_TELEMETRY', 'GIT_COMMIT', 'MODEL_VERSION', 'MODEL_SHA256', 'SOURCE_URL', 'TARGETARCH', 'VITEST_POOL_ID'];
    const env = Object.fromEntries([...usual, ...aws, ...mlflow, ...npm, ...build, ...CONFIG_VARIABLES].map((name) => [name, 'x']));
    expect(misspelledVariables(env)).toEqual([]);
  });
});

describe('the misspelling warning says what is read for the variable meant', () => {
  const hint = (meant: string, env: Record<string, string>) => /\(([^)]*)\)$/.exec(misspellingWarning('TYPO', meant, env))?.[1];

  it('names the misspelling and the variable meant', () => {
    expect(misspellingWarning('MAX_BACTH', 'MAX_BATCH', {})).toBe('environment variable MAX_BACTH is not read by the gateway; did you mean MAX_BATCH? (MAX_BATCH keeps its default)');
  });

  it('its value when set; its default when unset, or empty where empty means unset', () => {
    expect(hint('MAX_BATCH', { MAX_BATCH: '5' })).toBe('MAX_BATCH is set, and is what is read');
    expect(hint('MAX_BATCH', { MAX_BATCH: '' })).toBe('MAX_BATCH is empty, so it keeps its default');
    expect(hint('CORS_ORIGINS', { CORS_ORIGINS: '' })).toBe('CORS_ORIGINS is empty, so it keeps its default');
    expect(hint('HEADERS_TIMEOUT_MS', {})).toBe('HEADERS_TIMEOUT_MS keeps its default');
  });

  it('that it stays unset when it has no default', () => {
    expect(hint('ADMIN_TOKEN', {})).toBe('ADMIN_TOKEN stays unset');
    expect(hint('ADMIN_TOKEN', { ADMIN_TOKEN: '' })).toBe('ADMIN_TOKEN is empty, so it stays unset');
    expect(hint('MLFLOW_TRACKING_URI', {})).toBe('MLFLOW_TRACKING_URI stays unset');
  });

  it('that an empty value the variable refuses is what is read (the refusal names it)', () => {
    expect(hint('MODEL_URI', { MODEL_URI: '' })).toBe('MODEL_URI is set, and is what is read');
  });
});

describe('what a refusal shows of the value sent', () => {
  const details = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.details;
      throw err;
    }
    return [];
  };

  it('names the value for an ordinary variable, and none for a secret', () => {
    expect(details({ NODE_ENV: 'prod', HOST: '' })).toEqual([
      { variable: 'NODE_ENV', problem: 'must be one of "production", "development", "test"', sent: 'prod' },
      { variable: 'HOST', problem: 'must not be empty', sent: '' },
    ]);
    expect(details({ MLFLOW_TRACKING_URI: 'http://mlflow:5000', MODEL_URI: 'models:/m@a', MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'pw-secret', MLFLOW_TRACKING_TOKEN: 'tok-secret' })).toEqual([
      { variable: 'MLFLOW_TRACKING_TOKEN', problem: 'set either MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, not both' },
    ]);
    expect(details({ ADMIN_TOKEN: 'short-secret' })).toEqual([{ variable: 'ADMIN_TOKEN', problem: 'must be at least 16 characters' }]);
    // Credentials without a tracking URI are refused one by one: the username is shown, the password never.
    expect(details({ MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'pw-secret' })).toEqual([
      { variable: 'MLFLOW_TRACKING_USERNAME', problem: 'is only used with MLFLOW_TRACKING_URI, which is not set', sent: 'reader' },
      { variable: 'MLFLOW_TRACKING_PASSWORD', problem: 'is only used with MLFLOW_TRACKING_URI, which is not set' },
    ]);
  });

  // A user:password@ in a tracking URI is refused, and must not be published by the refusal itself.
  it.each([
    ['http://alice:Pa55word@mlflow:5000', 'http://***@mlflow:5000'],
    ['alice:Pa55word@mlflow:5000', '***@mlflow:5000'],
    ['https://alice:Pa55/w@rd@mlflow:5000/x', 'https://***@mlflow:5000/x'],
    // A query or fragment is refused too (MLflow's paths are appended to the URI), and may hold a token.
    ['http://mlflow.internal:5000/?token=sekrettok', 'http://mlflow.internal:5000/?***'],
    ['http://mlflow.internal:5000/mlflow#sekrettok', 'http://mlflow.internal:5000/mlflow#***'],
    ['http://mlflow:5000/?a=1#sekrettok', 'http://mlflow:5000/?***'],
    ['http://alice:Pa55word@mlflow:5000/?token=sekret@tok', 'http://***@mlflow:5000/?***'],
    ['mlflow.internal:5000/?token=sekrettok', 'mlflow.internal:5000/?***'],
  ])('shows %j as %j', (uri, shown) => {
    const [problem] = details({ MLFLOW_TRACKING_URI: uri, MODEL_URI: 'models:/telco-churn@champion' });
    expect(problem?.sent).toBe(shown);
  });

  // MODEL_URI's @ names the alias: the refusal shows the URI sent, the part at fault included.
  it.each([
    ['models:/telco-churn@champion!', 'models:/telco-churn@champion!'],
    ['runs:/0a1b@2c/bundle', 'runs:/0a1b@2c/bundle'],
    // Malformed, and nothing in them a credential: shown whole, so the part at fault can be seen.
    ['telco-churn@champion', 'telco-churn@champion'],
    ['models:telco-churn@champion', 'models:telco-churn@champion'],
    ['models://telco-churn@champion', 'models://telco-churn@champion'],
    ['model:/telco-churn@champion', 'model:/telco-churn@champion'],
    // The tracking URL pasted into MODEL_URI by mistake: its credentials are still hidden.
    ['http://alice:Pa55word@mlflow:5000', 'http://***@mlflow:5000'],
    ['http://mlflow:5000/?token=sekrettok', 'http://mlflow:5000/?***'],
  ])('shows MODEL_URI %j as %j', (uri, shown) => {
    const [problem] = details({ MODEL_URI: uri, MLFLOW_TRACKING_URI: 'http://mlflow:5000' });
    expect(problem).toMatchObject({ variable: 'MODEL_URI', sent: shown });
  });

  it('cuts a long value at 200 characters', () => {
    const [problem] = details({ MODEL_URI: 'x'.repeat(500), MLFLOW_TRACKING_URI: 'http://mlflow:5000' });
    expect(problem?.sent).toBe(`${'x'.repeat(200)}…`);
    // One of exactly 200 is shown whole, without the mark of a cut.
    const [whole] = details({ MODEL_URI: 'x'.repeat(200), MLFLOW_TRACKING_URI: 'http://mlflow:5000' });
    expect(whole?.sent).toBe('x'.repeat(200));
  });
});

describe('checks between variables', () => {
  /** The refusal's problems for `env`. */
  const problems = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    throw new Error(`${JSON.stringify(env)} was not refused`);
  };

  it('run once every variable is valid on its own: a variable with a problem is not also reported as missing its partner', () => {
    expect(problems({ MLFLOW_TRACKING_URI: '' })).toEqual(['MLFLOW_TRACKING_URI: must be an http(s) URL such as http://mlflow:5000; got ""']);
    expect(problems({ MLFLOW_TRACKING_URI: 'ftp://mlflow', MODEL_URI: 'models:/telco-churn/1', MLFLOW_TRACKING_USERNAME: 'u' })).toEqual(['MLFLOW_TRACKING_URI: must be an http(s) URL such as http://mlflow:5000; got "ftp://mlflow"']);
    expect(problems({ ADMIN_TOKEN: 'short', MLFLOW_STRICT: 'true' })).toEqual(['ADMIN_TOKEN: must be at least 16 characters']);
  });

  it('never report one variable twice', () => {
    const modelUri = problems({ MODEL_URI: '' });
    expect(modelUri).toHaveLength(1);
    expect(modelUri[0]).toMatch(/^MODEL_URI: must look like models:\/telco-churn@champion/);
  });

  it('still run when every variable is valid', () => {
    expect(problems({ MODEL_URI: 'models:/telco-churn/1' })).toEqual(['MODEL_URI: MLFLOW_TRACKING_URI and MODEL_URI must be set together; got "models:/telco-churn/1"']);
    expect(problems({ MLFLOW_STRICT: 'true' })).toEqual([expect.stringMatching(/^MLFLOW_STRICT: is true, but MLFLOW_TRACKING_URI and MODEL_URI are not set/)]);
  });
});
