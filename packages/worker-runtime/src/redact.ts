const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^\s/]*@/gi;
const KEY_PASSWORD = /\b(password|passwd|pwd)\s*=\s*('[^']*'|"[^"]*"|\S+)/gi;

/** Replaces passwords in connection strings (URL and key=value forms) inside arbitrary text. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@').replace(KEY_PASSWORD, '$1=***');
}
