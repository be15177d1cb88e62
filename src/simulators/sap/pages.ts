/**
 * What SAP's HTTP layer (ICM/ICF) and SOAP runtime send when something is wrong: HTML pages that are not
 * SOAP (logon errors, ICM errors) and the SOAP 1.1 fault of the web service runtime.
 */
import { randomBytes } from 'node:crypto';

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function logonErrorPage(systemId: string, client: string): string {
  return `<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>Logon Error Message</title></head>
<body>
<table><tr><td><h2>Logon Error Message</h2></td></tr></table>
<h3>Logon failed</h3>
<p>What has happened?</p>
<p>Calling the URL was terminated because of an error.</p>
<p><b>Note</b></p>
<ul><li>The following error occurred in system ${systemId} : Logon failed</li>
<li>The error occurred on the application server in client ${client}.</li></ul>
<p>What can I do?</p>
<ul><li>Check your user name and password and try again.</li></ul>
<hr><p>HTTP 401 - Unauthorized</p>
</body></html>
`;
}

export function icmErrorPage(status: 500 | 503, url: string, now: Date): string {
  const title = status === 503 ? '503 Service Unavailable' : '500 Internal Server Error';
  const what =
    status === 503
      ? 'Service cannot be reached'
      : 'The request was terminated because of an internal error in the application server';
  const code = status === 503 ? '-6' : '-20';
  return `<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>${title}</title></head>
<body>
<h1>${title}</h1>
<h2>${what}</h2>
<p>What has happened?</p>
<p>URL ${escapeXml(url)} call was terminated because the corresponding service is not available.</p>
<p>Error: ${code}<br>Version: 7530<br>Component: ICM<br>Date/Time: ${now.toUTCString()}<br>Module: icxxthr.c<br>Server: simsap_DEV_00</p>
</body></html>
`;
}

/** The fault SAP's SOAP runtime sends for any technical failure; details only in SRT_UTIL on the server. */
export function systemFailureEnvelope(now: Date): string {
  const transactionId = randomBytes(16).toString('hex').toUpperCase();
  const text = `Web service processing error; more details in the web service error log on provider side (UTC timestamp ${utcStamp(now)}; Transaction ID ${transactionId})`;
  return faultEnvelope('soap-env:Server', text, '<detail/>');
}

/** A classic RFC exception (not used by BAPIs), e.g. an unknown function module. */
export function exceptionEnvelope(functionName: string, exception: string, text: string): string {
  const detail = `<detail><n0:${escapeXml(functionName)}.Exception xmlns:n0="urn:sap-com:document:sap:rfc:functions"><Name>${escapeXml(exception)}</Name><Text>${escapeXml(text)}</Text></n0:${escapeXml(functionName)}.Exception></detail>`;
  return faultEnvelope('soap-env:Client', exception, detail);
}

function faultEnvelope(code: string, text: string, detail: string): string {
  return (
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header/><soap-env:Body>' +
    `<soap-env:Fault><faultcode>${code}</faultcode><faultstring xml:lang="en">${escapeXml(text)}</faultstring>${detail}</soap-env:Fault>` +
    '</soap-env:Body></soap-env:Envelope>'
  );
}
