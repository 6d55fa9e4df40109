import "@mantine/core/styles.css";
import "./i18n";
import { MantineProvider, createTheme } from "@mantine/core";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig } from "./config";

const theme = createTheme({ primaryColor: "indigo", defaultRadius: "md" });

void loadConfig().then((config) => {
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <MantineProvider theme={theme}>
        <App config={config} />
      </MantineProvider>
    </StrictMode>,
  );
});
