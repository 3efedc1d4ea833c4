# V5: fitted complexity exponent against the tail index.
set terminal pngcairo size 1100,520 noenhanced font ',11'
set output out
set xlabel "kappa (largest moment order in (1, 2])"
set ylabel "slope of log T(eps) against log(1/eps)"
set title "V5: measured exponent (per-seed mean, 95% t interval) vs (3 kappa - 2)/(kappa - 1)"
set grid lc rgb '#d0d0d0' lt 1 dt 3
set xrange [1.1:2.1]
set yrange [0:12]
set key outside right top vertical Left reverse
f(k) = (3*k - 2)/(k - 1)
plot f(x) with lines lw 2 lc rgb "#d62728" title "bound: (3 kappa - 2)/(kappa - 1)", \
     2 with lines lw 1.5 dt (8,6) lc rgb "black" title "eps^-2 (deterministic rate)", \
     data using 1:5:6 with yerrorbars pt 7 ps 1.2 lc rgb "#1f77b4" title "measured (per seed)", \
     data using 1:3 with points pt 6 ps 1.8 lc rgb "#ff7f0e" title "measured (pooled)"
