"""Content of the Learn page: one lesson per generator family, as data (the page only lays it out).

Each lesson is a few plain sentences (what the model is, how it is trained, what to watch for in
the live view, how it typically fails) and its objective in LaTeX. The formulas follow the papers
cited on each generator class (``Generator.paper``) and the code in ``synth_core/generators``:
where SynthLab deviates from the paper (a preconditioner, a bounded scale), the caption says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from .generators import Generator, list_generators
from .generators.base import FAMILY_ORDER


@dataclass(frozen=True)
class Formula:
    """One displayed equation: a short caption (Markdown) above the LaTeX (KaTeX) body."""

    caption: str
    latex: str


@dataclass(frozen=True)
class Lesson:
    """What the Learn page shows for one family (``family`` matches ``Generator.family``)."""

    family: str
    title: str     # short: it labels a tab
    heading: str   # the family's full name
    what: str      # what the model is
    training: str  # how it is trained
    watch: str     # what to look at in the live view
    failure: str   # the typical way it goes wrong
    formulas: tuple[Formula, ...]

    @property
    def text(self) -> str:
        """The explanation as one paragraph (what, training, watch, failure)."""
        return " ".join((self.what, self.training, self.watch, self.failure))


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        family="rule-based",
        title="Rule-based",
        heading="Rule-based baseline",
        what="The simplest synthesiser: every column is drawn on its own from its empirical distribution, "
             "and rules you write (ranges, allowed values, formulas between columns) are applied on top.",
        training="Nothing is learned by gradient descent; fitting means sorting each column to get its "
                 "quantiles.",
        watch="Each marginal histogram matches the real one exactly, while scatter plots and correlation "
              "heatmaps show that every dependence between columns is gone.",
        failure="It is the baseline every other model must beat: a model that scores no better on pair "
                "trends or utility has learned nothing about how the columns relate.",
        formulas=(
            Formula("Each feature $j$ is sampled independently through its inverse empirical CDF:",
                    r"\tilde x_j = \hat F_j^{-1}(u_j),\quad u_j \sim \mathcal U(0, 1)\ \text{independently},"
                    r"\qquad \hat F_j(t) = \frac{1}{n}\sum_{i=1}^{n} \mathbf 1[x_{ij} \le t]"),
            Formula("so the model's joint density is the product of the marginals (no dependence at all):",
                    r"p(\mathbf x) = \prod_{j=1}^{d} \hat p_j(x_j)"),
        ),
    ),
    Lesson(
        family="probabilistic",
        title="Probabilistic",
        heading="Classical probabilistic models",
        what="Explicit densities fitted by maximum likelihood: one multivariate Gaussian, a Gaussian "
             "mixture (GMM), a Gaussian copula (any marginals, Gaussian dependence) or a kernel density "
             "estimate (KDE, a smoothed copy of the data).",
        training="The Gaussian and the copula are fitted in closed form in one step; the GMM runs "
                 "expectation-maximisation (EM), one iteration per step, and its negative log-likelihood "
                 "can only go down; the KDE picks its bandwidth by held-out likelihood.",
        watch="On 2-D data watch the density contours: one Gaussian blob smeared over all eight modes of "
              "the ring, or a mixture that puts one component on each mode.",
        failure="A single Gaussian cannot be multimodal, EM can stall in a local optimum "
                "with two components sharing a mode, and a KDE with a tiny bandwidth memorises (copies) "
                "the training rows.",
        formulas=(
            Formula("**Gaussian**, maximum likelihood (with a small ridge $\\lambda$ on the diagonal):",
                    r"\hat\mu = \frac1n\sum_{i=1}^n x_i,\qquad "
                    r"\hat\Sigma = \frac1n\sum_{i=1}^n (x_i-\hat\mu)(x_i-\hat\mu)^{\top} + \lambda I"),
            Formula("**GMM**, $p(x)=\\sum_k \\pi_k\\,\\mathcal N(x\\mid\\mu_k,\\Sigma_k)$, fitted by EM. "
                    "E-step: each component's responsibility for each row,",
                    r"r_{ik} = \frac{\pi_k\,\mathcal N(x_i \mid \mu_k, \Sigma_k)}"
                    r"{\sum_{l=1}^{K} \pi_l\,\mathcal N(x_i \mid \mu_l, \Sigma_l)}"),
            Formula("M-step: weighted maximum-likelihood estimates (the log-likelihood never decreases):",
                    r"N_k = \sum_i r_{ik},\quad \pi_k = \frac{N_k}{n},\quad "
                    r"\mu_k = \frac{1}{N_k}\sum_i r_{ik}\,x_i,\quad "
                    r"\Sigma_k = \frac{1}{N_k}\sum_i r_{ik}\,(x_i-\mu_k)(x_i-\mu_k)^{\top}"),
            Formula("**Gaussian copula** (Sklar): keep each marginal $F_j$, model dependence with a "
                    "correlation matrix $R$ of normal scores. Fit, then sample:",
                    r"z_{ij} = \Phi^{-1}\!\Big(\frac{\operatorname{rank}(x_{ij})}{n+1}\Big),\ \ "
                    r"R = \operatorname{corr}(z);\qquad "
                    r"z \sim \mathcal N(0, R),\ \ \tilde x_j = \hat F_j^{-1}\big(\Phi(z_j)\big)"),
            Formula("**KDE** with a Gaussian kernel of bandwidth $h$ (features scaled by their std $s$); "
                    "$h$ maximises the log-likelihood of held-out rows:",
                    r"\hat p_h(x) = \frac1n\sum_{i=1}^n \mathcal N\big(x \mid x_i,\ h^2\operatorname{diag}(s^2)\big),"
                    r"\qquad h^\star = \arg\max_h \sum_{x \in \text{held-out}} \log \hat p_h(x)"),
        ),
    ),
    Lesson(
        family="mcmc",
        title="MCMC",
        heading="Markov chain Monte Carlo",
        what="MCMC does not learn a sampler: it fits a density $p$ to the data (a GMM or a KDE) and then "
             "runs many Markov chains whose long-run distribution is exactly $p$.",
        training="Each step proposes a move and accepts it with the Metropolis-Hastings probability; MALA "
                 "proposals drift up the gradient of $\\log p$, and the step size adapts during burn-in only.",
        watch="Watch the chain trace with its accepted and rejected proposals, the acceptance rate (about "
              "0.23 is optimal for random walk, 0.57 for MALA) and the effective sample size.",
        failure="The usual failure is poor mixing: a chain stays inside one mode of the ring because the "
                "low-density gap between modes is almost never crossed, and successive draws are strongly "
                "correlated.",
        formulas=(
            Formula("**Metropolis-Hastings**: from $x$, propose $x' \\sim q(x' \\mid x)$ and accept it with "
                    "probability (only ratios of $p$ are needed, so $p$ may be unnormalised)",
                    r"\alpha(x \to x') = \min\!\Big(1,\ \frac{p(x')\,q(x \mid x')}{p(x)\,q(x' \mid x)}\Big)"),
            Formula("Random walk: $q$ is symmetric, $x' = x + s\\,\\sigma\\odot\\xi$ with "
                    "$\\xi\\sim\\mathcal N(0,I)$, so the rule reduces to",
                    r"\alpha = \min\!\Big(1,\ \frac{p(x')}{p(x)}\Big)"),
            Formula("**MALA** (Langevin proposal, preconditioned by the feature stds $\\sigma$); $q$ is not "
                    "symmetric, so the full ratio above is used:",
                    r"x' = x + \frac{s^2}{2}\,\sigma^2 \odot \nabla_x \log p(x) + s\,\sigma \odot \xi,\qquad "
                    r"q(x' \mid x) = \mathcal N\Big(x';\ x + \frac{s^2}{2}\,\sigma^2\odot\nabla_x\log p(x),\ "
                    r"s^2 \operatorname{diag}(\sigma^2)\Big)"),
        ),
    ),
    Lesson(
        family="gan",
        title="GANs",
        heading="Generative adversarial networks",
        what="A generator $G$ turns noise $z \\sim \\mathcal N(0, I)$ into samples and a discriminator (or "
             "critic) $D$ tries to tell them from real data; neither network ever sees a likelihood.",
        training="The two are trained in alternation: $D$ takes a step to separate real from fake, then $G$ "
                 "takes a step to fool the updated $D$.",
        watch="Watch both losses (they should hover, not converge to zero), $D(x)$ against $D(G(z))$, the "
              "fixed-noise sample grid, and on 2-D data the discriminator's decision surface and the "
              "gradient arrows that push fake points toward the data.",
        failure="The classic failure is mode collapse: the generator covers only a few of the ring's eight "
                "modes (or draws only a few digit shapes); a discriminator loss that drops to zero means $G$ "
                "gets no useful gradient. WGAN-GP's critic gives useful gradients even far from the data.",
        formulas=(
            Formula("**Minimax game** (Goodfellow et al. 2014): $D$ maximises, $G$ minimises",
                    r"\min_G \max_D\ V(D, G) = \mathbb E_{x \sim p_{\text{data}}}\big[\log D(x)\big] "
                    r"+ \mathbb E_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]"),
            Formula("For a fixed $G$ the best discriminator is $D^*(x) = p_{\\text{data}}(x) / (p_{\\text{data}}(x) "
                    "+ p_g(x))$, and then $G$ minimises a Jensen-Shannon divergence:",
                    r"V(D^*, G) = 2\,\mathrm{JSD}\big(p_{\text{data}} \,\|\, p_g\big) - \log 4"),
            Formula("**Non-saturating losses** (what SynthLab's GAN, DCGAN and cGAN minimise): $G$ maximises "
                    "$\\log D(G(z))$ instead of minimising $\\log(1 - D(G(z)))$, which saturates early on",
                    r"\mathcal L_D = -\,\mathbb E_{x}\big[\log D(x)\big] - \mathbb E_{z}\big[\log\big(1 - D(G(z))\big)\big],"
                    r"\qquad \mathcal L_G = -\,\mathbb E_{z}\big[\log D(G(z))\big]"),
            Formula("**WGAN-GP** (Gulrajani et al. 2017): the critic $D$ (no sigmoid) minimises, with "
                    "$\\hat x = \\epsilon x + (1-\\epsilon)\\tilde x$, $\\epsilon \\sim \\mathcal U[0,1]$, "
                    "$\\tilde x = G(z)$, $\\lambda = 10$, and $n_{\\text{critic}} = 5$ critic steps per $G$ step",
                    r"\mathcal L_D = \mathbb E_{\tilde x \sim p_g}\big[D(\tilde x)\big] - \mathbb E_{x \sim p_{\text{data}}}"
                    r"\big[D(x)\big] + \lambda\, \mathbb E_{\hat x}\Big[\big(\|\nabla_{\hat x} D(\hat x)\|_2 - 1\big)^2\Big],"
                    r"\qquad \mathcal L_G = -\,\mathbb E_{z}\big[D(G(z))\big]"),
            Formula("**Conditional GAN** (Mirza & Osindero 2014): both networks see the label $y$",
                    r"\min_G \max_D\ \mathbb E_{x, y}\big[\log D(x \mid y)\big] "
                    r"+ \mathbb E_{z, y}\big[\log\big(1 - D(G(z \mid y) \mid y)\big)\big]"),
        ),
    ),
    Lesson(
        family="vae",
        title="VAEs",
        heading="Variational autoencoders",
        what="An encoder $q_\\phi(z \\mid x)$ maps each example to a Gaussian over a low-dimensional latent "
             "$z$, and a decoder $p_\\theta(x \\mid z)$ maps $z$ back; new samples decode $z \\sim \\mathcal N(0, I)$.",
        training="Both networks are trained together by maximising the evidence lower bound (ELBO) with the "
                 "reparameterisation trick $z = \\mu + \\sigma \\odot \\epsilon$; SynthLab ramps the KL weight "
                 "from 0 to 1 over the first steps.",
        watch="Watch the two terms separately: reconstruction should fall steadily and the KL should settle "
              "at a positive value; the Latent space page shows interpolations and, with a 2-D latent, the "
              "whole learned manifold.",
        failure="Samples are often blurry (the decoder averages over what it cannot tell apart); the other "
                "classic failure is posterior collapse: the KL drops to about zero, $q(z \\mid x)$ equals the "
                "prior, and the decoder ignores $z$.",
        formulas=(
            Formula("**ELBO** (Kingma & Welling 2014), maximised over encoder $\\phi$ and decoder $\\theta$ "
                    "(the loss curve shows its negative):",
                    r"\log p_\theta(x) \;\ge\; \mathcal L(\theta, \phi; x) = "
                    r"\underbrace{\mathbb E_{q_\phi(z \mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction}}"
                    r" - \underbrace{D_{\mathrm{KL}}\big(q_\phi(z \mid x) \,\|\, p(z)\big)}_{\text{KL}}"),
            Formula("With $q_\\phi(z\\mid x) = \\mathcal N(\\mu, \\operatorname{diag}\\sigma^2)$ and $p(z) = "
                    "\\mathcal N(0, I)$ the KL term is closed-form, and $z$ is reparameterised so gradients flow "
                    "through the sampling:",
                    r"D_{\mathrm{KL}} = -\frac12 \sum_{j=1}^{d_z}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big),"
                    r"\qquad z = \mu + \sigma \odot \epsilon,\ \ \epsilon \sim \mathcal N(0, I)"),
            Formula("**Mixture prior** (SynthLab's default on 2-D points and tables; cf. Tomczak & Welling 2018): "
                    "a learnable mixture of $K$ diagonal Gaussians follows the encoder's clusters, so prior samples "
                    "do not fall in the holes between them. The KL has no closed form and is estimated with the "
                    "same reparameterised $z$:",
                    r"p_\psi(z) = \sum_{k=1}^{K} \pi_k\, \mathcal N\big(z;\ m_k, \operatorname{diag} s_k^2\big),"
                    r"\qquad D_{\mathrm{KL}} \approx \log q_\phi(z \mid x) - \log p_\psi(z)"),
            Formula("**Conditional VAE** (Sohn et al. 2015): encoder and decoder also see the label $y$ "
                    "(here the prior $p(z \\mid y) = \\mathcal N(0, I)$ does not depend on $y$):",
                    r"\log p_\theta(x \mid y) \;\ge\; \mathbb E_{q_\phi(z \mid x, y)}\big[\log p_\theta(x \mid z, y)\big]"
                    r" - D_{\mathrm{KL}}\big(q_\phi(z \mid x, y) \,\|\, p(z \mid y)\big)"),
        ),
    ),
    Lesson(
        family="diffusion",
        title="Diffusion",
        heading="Denoising diffusion models",
        what="A diffusion model destroys data by adding Gaussian noise over $T$ small steps and learns to "
             "undo it: a network $\\epsilon_\\theta(x_t, t)$ predicts the noise in a noisy example.",
        training="Each step picks random examples, random times $t$ and random noise, and regresses the "
                 "noise with a plain mean-squared error; sampling starts from pure noise and denoises step "
                 "by step.",
        watch="The loss is noisy and falls slowly, so judge progress by the samples: points contract from a "
              "Gaussian cloud onto the data, digits emerge from static.",
        failure="Samples stay noisy or blurry when training is short or the sampler takes too few steps, "
                "and sampling is slow because every sample needs many network calls.",
        formulas=(
            Formula("**Forward process** (Ho et al. 2020), with $\\alpha_t = 1-\\beta_t$ and "
                    "$\\bar\\alpha_t = \\prod_{s=1}^{t} \\alpha_s$; it has a closed form at any $t$:",
                    r"q(x_t \mid x_{t-1}) = \mathcal N\big(x_t;\ \sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big),"
                    r"\qquad q(x_t \mid x_0) = \mathcal N\big(x_t;\ \sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big)"),
            Formula("**Simplified objective** (Ho et al. eq. 14), $t \\sim \\mathcal U\\{1,\\dots,T\\}$, "
                    "$\\epsilon \\sim \\mathcal N(0, I)$:",
                    r"\mathcal L_{\text{simple}}(\theta) = \mathbb E_{t, x_0, \epsilon}\Big[\big\|\epsilon - "
                    r"\epsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon,\ t\big)\big\|^2\Big]"),
            Formula("**Sampling** (Ho et al. Algorithm 2), from $x_T \\sim \\mathcal N(0, I)$ down to $x_0$, "
                    "with $\\mathbf z \\sim \\mathcal N(0, I)$ for $t > 1$ (DDIM drops the noise and skips steps):",
                    r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{1-\alpha_t}{\sqrt{1-\bar\alpha_t}}\,"
                    r"\epsilon_\theta(x_t, t)\Big) + \sigma_t\,\mathbf z"),
        ),
    ),
    Lesson(
        family="flow",
        title="Flows",
        heading="Normalizing flows",
        what="A flow is an invertible network $f$ that maps data $x$ to a latent $z = f(x)$ with a simple "
             "density $\\mathcal N(0, I)$; sampling runs it backwards, $x = f^{-1}(z)$.",
        training="Because $f$ is invertible with a cheap Jacobian determinant, the exact log-likelihood is "
                 "available and is maximised directly by gradient ascent.",
        watch="On 2-D data watch the density contours bend from one Gaussian into the shape of the data, and "
              "the negative log-likelihood fall.",
        failure="The usual failure is thin bridges of probability between separated modes: a continuous "
                "invertible map cannot tear the Gaussian apart, so some samples land between the ring's modes.",
        formulas=(
            Formula("**Change of variables** (Dinh et al. 2017): the likelihood is exact",
                    r"\log p_X(x) = \log p_Z\big(f(x)\big) + \log\Big|\det \frac{\partial f(x)}{\partial x^{\top}}\Big|"),
            Formula("**Affine coupling layer**: keep half the features $x_{1:d}$, scale and shift the rest "
                    "(SynthLab bounds $s$ with a tanh); the Jacobian is triangular:",
                    r"y_{1:d} = x_{1:d},\qquad y_{d+1:D} = x_{d+1:D} \odot \exp\big(s(x_{1:d})\big) + t(x_{1:d}),"
                    r"\qquad \log\Big|\det\frac{\partial y}{\partial x^{\top}}\Big| = \sum_j s(x_{1:d})_j"),
            Formula("and it inverts as cheaply as it runs forward:",
                    r"x_{d+1:D} = \big(y_{d+1:D} - t(y_{1:d})\big) \odot \exp\big(-s(y_{1:d})\big)"),
        ),
    ),
)

#: dataset each generator's "Try it" opens with: the classic demo for the model, else by data kind
DEMO_DATASETS: dict[str, str] = {
    "marginals": "patients", "gaussian": "mnist", "gmm": "ring8", "copula": "patients", "kde": "ring8",
    "mcmc": "ring8", "gan": "ring8", "dcgan": "mnist", "wgan_gp": "ring8", "cgan": "mnist",
    "ctgan": "patients", "vae": "mnist", "cvae": "mnist", "tvae": "patients", "ddpm": "ring8",
    "realnvp": "ring8",
}
_KIND_DEFAULT = {"points": "ring8", "image": "mnist", "tabular": "patients"}
#: hyperparameters "Try it" starts a generator with, where its demo needs other values than the defaults
#: (the VAE's lesson points at the 2-D latent map, which needs a 2-D latent)
DEMO_PARAMS: dict[str, dict[str, object]] = {"vae": {"z_dim": 2}}


def lessons() -> list[Lesson]:
    """All lessons in teaching order (``FAMILY_ORDER``; unknown families last)."""
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    return sorted(LESSONS, key=lambda l: rank.get(l.family, len(rank)))


def family_generators(family: str) -> list[type[Generator]]:
    """Registered generators of one family, in registry order."""
    return [g for g in list_generators() if g.family == family]


def demo_params(gen: type[Generator]) -> dict[str, object]:
    """Hyperparameters "Try it" sets for ``gen`` (the rest stay at their defaults)."""
    return dict(DEMO_PARAMS.get(gen.name, {}))


def demo_dataset(gen: type[Generator]) -> str:
    """The dataset "Try it" selects for ``gen``: its classic demo, else ring8 / mnist / patients by kind."""
    name = DEMO_DATASETS.get(gen.name)
    if name is not None:
        return name
    for kind in ("points", "image", "tabular"):
        if kind in gen.supports:
            return _KIND_DEFAULT[kind]
    raise ValueError(f"{gen.name} supports no known data kind")
