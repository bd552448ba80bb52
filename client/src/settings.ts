/**
 * Typed access to the `handlerlens.*` settings, and which of them need a server restart.
 */
import * as vscode from "vscode";
import type { ServerSettings } from "./protocol";

export const SECTION = "handlerlens";

/** Settings whose change restarts the language server (trace is applied live by the client). */
export const RESTART_SETTINGS = [
  "handlerlens.interpreter",
  "handlerlens.platform",
  "handlerlens.runner.port",
  "handlerlens.runner.timeout",
  "handlerlens.eventsFolder",
  "handlerlens.interpreterMismatch",
] as const;

export const DEFAULT_EVENTS_FOLDER = ".handlerlens/events";

export interface ExtensionSettings {
  platform: ServerSettings["platform"];
  interpreter: string;
  runnerPort: number;
  runnerTimeout: number | null;
  eventsFolder: string;
  interpreterMismatch: boolean;
}

/** Current settings for a resource (or the first workspace folder), defaults filled in. */
export function readSettings(scope?: vscode.ConfigurationScope): ExtensionSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope ?? firstFolder());
  const platform = cfg.get<string>("platform", "auto");
  const port = cfg.get<number>("runner.port", 0);
  const timeout = cfg.get<number | null>("runner.timeout", null);
  return {
    platform: platform === "yandex" || platform === "aws" ? platform : "auto",
    interpreter: cfg.get<string>("interpreter", "").trim(),
    runnerPort: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 0,
    runnerTimeout: typeof timeout === "number" && timeout > 0 ? timeout : null,
    eventsFolder:
      cfg.get<string>("eventsFolder", DEFAULT_EVENTS_FOLDER).trim() || DEFAULT_EVENTS_FOLDER,
    interpreterMismatch: cfg.get<unknown>("interpreterMismatch", false) === true,
  };
}

/** The settings block sent to the server, with the interpreter actually in use. */
export function serverSettings(settings: ExtensionSettings, interpreter: string): ServerSettings {
  return {
    platform: settings.platform,
    interpreter,
    runner: { port: settings.runnerPort, timeout: settings.runnerTimeout },
    eventsFolder: settings.eventsFolder,
    interpreterMismatch: settings.interpreterMismatch,
  };
}

/** True when a configuration change touches a setting that needs a server restart. */
export function needsRestart(e: vscode.ConfigurationChangeEvent): boolean {
  return RESTART_SETTINGS.some((key) => e.affectsConfiguration(key));
}

function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** `handlerlens.codeLens.enabled`: the Run/Debug lenses above handlers. */
export function lensesEnabled(scope?: vscode.ConfigurationScope): boolean {
  return vscode.workspace.getConfiguration(SECTION, scope).get<boolean>("codeLens.enabled", true);
}

export type NotificationLevel = "all" | "errors" | "off";

/** `handlerlens.notifications`: which pop-ups to show. */
export function notificationLevel(): NotificationLevel {
  const v = vscode.workspace.getConfiguration(SECTION).get<string>("notifications", "all");
  return v === "errors" || v === "off" ? v : "all";
}

/**
 * An information pop-up, unless `handlerlens.notifications` hides it (then the status bar says
 * it for a few seconds). Resolves to the chosen action, or undefined.
 */
export async function notifyInfo(
  message: string,
  ...actions: string[]
): Promise<string | undefined> {
  if (notificationLevel() !== "all") {
    vscode.window.setStatusBarMessage(message, 5000);
    return undefined;
  }
  return vscode.window.showInformationMessage(message, ...actions);
}

/** An error pop-up for something the user asked for, unless notifications are off. */
export async function notifyError(
  message: string,
  ...actions: string[]
): Promise<string | undefined> {
  if (notificationLevel() === "off") {
    vscode.window.setStatusBarMessage(`$(error) ${message}`, 8000);
    return undefined;
  }
  return vscode.window.showErrorMessage(message, ...actions);
}
