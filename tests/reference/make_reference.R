# Independent reference values for cart19.survival, computed with R's survival package.
#
# Usage (from the repo root; needs R with the survival and jsonlite packages, e.g.
#   apt-get install r-base-core r-cran-survival r-cran-jsonlite):
#     Rscript tests/reference/make_reference.R
# Reads the CSVs in tests/reference/ (exported from lifelines by export_datasets.py) and writes
# tests/reference/survival_reference.json. CI does not run R: the tests read the committed JSON.
#
# Everything here is computed by R's own functions (survfit, summary.survfit, quantile.survfit,
# survdiff, coxph); the only hand formulas are Prism's two hazard ratios, built from survdiff's
# observed/expected/variance exactly as GraphPad documents them, and the forward-selection loop,
# which re-implements SPSS's "Forward: LR" rule on top of coxph.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
rd <- function(name) read.csv(file.path(here, name), stringsAsFactors = FALSE)

data <- list(
  leukemia = rd("leukemia.csv"),
  larynx = rd("larynx.csv"),
  rossi = rd("rossi.csv"),
  waltons = rd("waltons.csv"),
  toy_ties = rd("toy_ties.csv"),
  flat_half = rd("flat_half.csv")
)

null_to_na <- function(x) if (is.null(x)) NA else x

strata_level <- function(fit, group) {
  # survfit strata names are "grp=level"; keep the level
  if (is.null(fit$strata)) return("all")
  sub(paste0("^", group, "="), "", names(fit$strata))
}

surv_formula <- function(duration, event, group) {
  rhs <- if (is.null(group)) "1" else group
  as.formula(sprintf("Surv(%s, %s) ~ %s", duration, event, rhs))
}

# ---------------------------------------------------------------- Kaplan-Meier at times + medians
km_case <- function(name, duration, event, group, times) {
  d <- data[[name]]
  out <- list()
  for (ct in c("log", "log-log", "plain")) {
    fit <- survfit(surv_formula(duration, event, group), data = d, conf.type = ct)
    s <- summary(fit, times = times, extend = TRUE)
    lv <- if (is.null(s$strata)) rep("all", length(s$time)) else
      sub(paste0("^", group, "="), "", as.character(s$strata))
    out[[length(out) + 1]] <- list(
      dataset = name, duration = duration, event = event, group = null_to_na(group),
      conf_type = ct, level = I(lv), time = s$time, n_risk = s$n.risk, surv = s$surv, std_err = s$std.err,
      lower = s$lower, upper = s$upper)
  }
  fit <- survfit(surv_formula(duration, event, group), data = d)
  q <- quantile(fit, probs = 0.5, conf.int = FALSE)
  med <- list(dataset = name, duration = duration, event = event, group = null_to_na(group),
              level = I(strata_level(fit, group)), median = I(unname(as.numeric(q))))
  list(km = out, median = med)
}

km_cases <- list(
  km_case("leukemia", "t", "status", NULL, c(1, 5, 8, 10, 15, 22, 23, 30)),
  km_case("leukemia", "t", "status", "Rx", c(1, 5, 8, 10, 15, 22, 23, 30)),
  km_case("larynx", "time", "death", "stage", c(0.5, 1, 2, 3.5, 5, 8)),
  km_case("waltons", "T", "E", "group", c(10, 30, 50, 56, 60, 75)),
  km_case("toy_ties", "time", "event", "grp", c(1, 2, 4, 6, 8)),
  km_case("flat_half", "time", "event", NULL, c(1, 2, 2.5, 3, 4))
)

# ---------------------------------------------------------------- log-rank + Prism hazard ratios
logrank_case <- function(name, duration, event, group) {
  d <- data[[name]]
  sd <- survdiff(surv_formula(duration, event, group), data = d)
  lv <- sub(paste0("^", group, "="), "", names(sd$n))
  df <- length(sd$n) - 1
  list(dataset = name, duration = duration, event = event, group = group, level = lv,
       n = as.numeric(sd$n), obs = as.numeric(sd$obs), exp = as.numeric(sd$exp),
       var = unname(as.matrix(sd$var)), chisq = sd$chisq, df = df,
       p = pchisq(sd$chisq, df, lower.tail = FALSE))
}

prism_hr <- function(lr, a_index) {
  # hazard ratio of level a versus the other level (b), from survdiff's O, E and V.
  b_index <- 3 - a_index
  O <- lr$obs; E <- lr$exp; V <- lr$var[1, 1]  # V is the same for either group in 2 groups
  z <- qnorm(0.975)
  hr_lr <- (O[a_index] / E[a_index]) / (O[b_index] / E[b_index])
  se_lr <- sqrt(1 / E[a_index] + 1 / E[b_index])
  K <- (O[a_index] - E[a_index]) / V
  list(dataset = lr$dataset, duration = lr$duration, event = lr$event, group = lr$group,
       level = lr$level[a_index], ref = lr$level[b_index],
       O = O[a_index], E = E[a_index], V = V,
       logrank = list(hr = hr_lr, lower = exp(log(hr_lr) - z * se_lr),
                      upper = exp(log(hr_lr) + z * se_lr)),
       mantel_haenszel = list(hr = exp(K), lower = exp(K - z / sqrt(V)),
                              upper = exp(K + z / sqrt(V))))
}

lr_cases <- list(
  logrank_case("leukemia", "t", "status", "Rx"),
  logrank_case("leukemia", "t", "status", "sex"),
  logrank_case("larynx", "time", "death", "stage"),
  logrank_case("waltons", "T", "E", "group"),
  logrank_case("toy_ties", "time", "event", "grp"),
  logrank_case("rossi", "week", "arrest", "fin")
)
hr_cases <- list()
for (lr in lr_cases) {
  if (length(lr$level) == 2) {
    hr_cases[[length(hr_cases) + 1]] <- prism_hr(lr, 1)
    hr_cases[[length(hr_cases) + 1]] <- prism_hr(lr, 2)
  }
}

# ---------------------------------------------------------------- Cox (Efron ties)
# converge tighter than coxph's default (eps = 1e-9 relative change in the log-likelihood) so the
# comparison at 1e-6 is not about where two optimisers happened to stop
tight <- coxph.control(eps = 1e-11, iter.max = 100)
cox_case <- function(name, duration, event, covariates) {
  d <- data[[name]]
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", duration, event, paste(covariates, collapse = "+")))
  fit <- coxph(f, data = d, ties = "efron", control = tight)
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  list(dataset = name, duration = duration, event = event, covariates = I(covariates),
       coef = unname(cf[, "coef"]), se = unname(cf[, "se(coef)"]), hr = unname(cf[, "exp(coef)"]),
       lower = unname(ci[, "lower .95"]), upper = unname(ci[, "upper .95"]),
       z = unname(cf[, "z"]), p = unname(cf[, "Pr(>|z|)"]),
       loglik = fit$loglik[2], loglik_null = fit$loglik[1], score_test = unname(fit$score))
}

cox_cases <- list(
  cox_case("leukemia", "t", "status", c("Rx")),
  cox_case("leukemia", "t", "status", c("Rx", "logWBC", "sex")),
  cox_case("larynx", "time", "death", c("age", "Stage_II", "Stage_III", "Stage_IV")),
  cox_case("rossi", "week", "arrest", c("fin", "age", "race", "wexp", "mar", "paro", "prio")),
  cox_case("toy_ties", "time", "event", c("x"))
)

# score statistic at a given point: coxph(init = ..., iter.max = 0)$score
score_at <- function(d, duration, event, covariates, init) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", duration, event, paste(covariates, collapse = "+")))
  fit <- suppressWarnings(coxph(f, data = d, ties = "efron", init = init, iter.max = 0))
  unname(fit$score)
}

# ---------------------------------------------------------------- forward selection (SPSS "Forward: LR")
# Entry: score test of each candidate at (current estimates, 0), smallest P enters if P < enter.
# Removal: LR test of dropping each variable; the largest P leaves if P > remove.
forward_lr <- function(name, duration, event, candidates, enter = 0.05, remove = 0.10) {
  d <- data[[name]]
  ll_of <- function(cols) {
    if (!length(cols)) {
      fit <- coxph(as.formula(sprintf("Surv(%s, %s) ~ 1", duration, event)), data = d,
                   ties = "efron", control = tight)
      return(list(ll = fit$loglik[1], beta = numeric(0)))
    }
    f <- as.formula(sprintf("Surv(%s, %s) ~ %s", duration, event, paste(cols, collapse = "+")))
    fit <- coxph(f, data = d, ties = "efron", control = tight)
    list(ll = fit$loglik[2], beta = unname(coef(fit)))
  }
  selected <- character(0)
  steps <- list()
  cur <- ll_of(selected)
  for (step in 1:100) {
    best <- NULL
    for (c in setdiff(candidates, selected)) {
      stat <- score_at(d, duration, event, c(selected, c), c(cur$beta, 0))
      p <- pchisq(stat, 1, lower.tail = FALSE)
      if (is.null(best) || p < best$p) best <- list(variable = c, statistic = stat, p = p)
    }
    if (is.null(best) || !(best$p < enter)) break
    selected <- c(selected, best$variable)
    steps[[length(steps) + 1]] <- c(list(step = step, action = "enter"), best)
    cur <- ll_of(selected)
    if (length(selected) > 1) {
      worst <- NULL
      for (c in selected) {
        stat <- 2 * (cur$ll - ll_of(setdiff(selected, c))$ll)
        p <- pchisq(stat, 1, lower.tail = FALSE)
        if (is.null(worst) || p > worst$p) worst <- list(variable = c, statistic = stat, p = p)
      }
      if (worst$p > remove) {
        selected <- setdiff(selected, worst$variable)
        steps[[length(steps) + 1]] <- c(list(step = step, action = "remove"), worst)
        cur <- ll_of(selected)
      }
    }
  }
  list(dataset = name, duration = duration, event = event, candidates = candidates,
       enter = enter, remove = remove, selected = I(selected), steps = steps)
}

score_cases <- list(
  list(dataset = "leukemia", duration = "t", event = "status", covariates = c("Rx", "logWBC"),
       init = c(1.2, 0)),
  list(dataset = "rossi", duration = "week", event = "arrest", covariates = c("fin", "prio", "age"),
       init = c(-0.3, 0.09, 0)),
  list(dataset = "toy_ties", duration = "time", event = "event", covariates = I("x"), init = I(0))
)
for (i in seq_along(score_cases)) {
  sc <- score_cases[[i]]
  score_cases[[i]]$score <- score_at(data[[sc$dataset]], sc$duration, sc$event, sc$covariates,
                                     sc$init)
}

forward_cases <- list(
  forward_lr("rossi", "week", "arrest", c("fin", "age", "race", "wexp", "mar", "paro", "prio")),
  forward_lr("leukemia", "t", "status", c("sex", "logWBC", "Rx")),
  forward_lr("larynx", "time", "death", c("age", "Stage_II", "Stage_III", "Stage_IV"))
)

out <- list(
  meta = list(
    generated_by = "tests/reference/make_reference.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    note = paste("KM: survfit + summary(times=, extend=TRUE), std_err is the SE of S;",
                 "median: quantile.survfit(probs=0.5); log-rank: survdiff (rho=0);",
                 "Cox: coxph(ties='efron'), Wald SE/CI/P; Prism HRs by hand from survdiff O/E/V.")
  ),
  km = unlist(lapply(km_cases, `[[`, "km"), recursive = FALSE),
  median = lapply(km_cases, `[[`, "median"),
  logrank = lr_cases,
  prism_hr = hr_cases,
  cox = cox_cases,
  score = score_cases,
  forward = forward_cases
)
path <- file.path(here, "survival_reference.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), path)
cat("wrote", path, "\n")
