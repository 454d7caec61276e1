// Renders a connection URL in the form a platform takes: a dotenv line, a shell export, JSON, or a
// Kubernetes Secret manifest (with the CA bundle beside the URL, so the pod has both).

import { stringify } from "yaml";

export const FORMATS = ["dotenv", "shell", "json", "k8s-secret"] as const;
export type ConnectionFormat = (typeof FORMATS)[number];

export interface KubernetesSecretOptions {
  readonly name: string;
  readonly namespace: string;
  /** The CA bundle's content, stored under `caKey` so a volume can mount it at the URL's sslrootcert. */
  readonly caBundle?: string;
  readonly caKey: string;
}

/** Single-quoted for POSIX shells: nothing inside is expanded. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderConnection(format: ConnectionFormat, variable: string, url: string, kubernetes?: KubernetesSecretOptions): string {
  switch (format) {
    case "dotenv":
      // Single quotes: dotenv and docker compose take the text literally, and a shell that sources the
      // file (set -a; . ./.env) does not read the URL's & as "run in background". Every component of the
      // URL is percent-encoded and the host is checked, so no quote can be in it; if one were, the line
      // could end the quote, and that is refused rather than written.
      if (url.includes("'") || url.includes("\n")) throw new Error("a URL with a quote or a line break cannot be written as a dotenv line");
      return `${variable}='${url}'\n`;
    case "shell":
      return `export ${variable}=${shellQuote(url)}\n`;
    case "json":
      return `${JSON.stringify({ [variable]: url }, null, 2)}\n`;
    case "k8s-secret": {
      if (!kubernetes) throw new Error("k8s-secret needs the Secret's name and namespace");
      const stringData: Record<string, string> = { [variable]: url };
      if (kubernetes.caBundle) stringData[kubernetes.caKey] = kubernetes.caBundle;
      return stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: kubernetes.name,
          namespace: kubernetes.namespace,
          labels: { "app.kubernetes.io/part-of": "pulse", "app.kubernetes.io/component": "analytics-postgres" },
        },
        type: "Opaque",
        stringData,
      });
    }
  }
}
